"""Appointment outcomes become the library's course events: a therapist-missed appointment
in the clinic app gives the same episode and alert as ``[[events]]`` in a client folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from clinic_helpers import World, page_csrf

from attunement.course import run_course
from attunement.store import checks, repo, schedule
from attunement.web.course import appointment_events

MONDAY = dt.date(2026, 1, 5)
ITEMS = ("heard", "goals", "approach", "fit")
#: the alliance check after each weekly session: a drop after the missed appointment
ALLIANCE = {1: 8.0, 2: 9.0, 3: 8.0, 4: 9.0, 5: 4.0, 6: 5.0}
MISSED = MONDAY + dt.timedelta(weeks=4, days=-3)  # the Friday between sessions 4 and 5


def _client(world: World, name: str) -> int:
    with world.store.tx() as db:
        c = repo.create_client(
            db, world.store.keys, therapist_id=world.users["alice"], pseudonym=name
        )
        for number, value in ALLIANCE.items():
            checks.add_response(
                db,
                world.store.keys,
                client_id=c.id,
                instrument=checks.instruments()["alliance_check"],
                session_number=number,
                date=MONDAY + dt.timedelta(weeks=number - 1),
                answers=dict.fromkeys(ITEMS, value),
            )
        return c.id


def _appointment(world: World, client_id: int, starts: dt.datetime) -> int:
    with world.store.tx() as db:
        a = schedule.create_appointment(
            db,
            world.store.keys,
            client_id=client_id,
            starts_at=starts,
            minutes=50,
            now=dt.datetime.combine(MONDAY, dt.time(9), tzinfo=dt.UTC),
        )
        return a.id


def _mark(world: World, appointment_id: int, status: str) -> None:
    alice = world.browser("alice")
    r = alice.post(
        f"/appointments/{appointment_id}/status",
        data={"csrf_token": page_csrf(alice), "status": status},
        follow_redirects=False,
    )
    assert r.status_code == 303


def _folder_course(tmp_path: Path, client_id: int, events: str) -> Any:
    """The same answers and events as a client folder, through the library alone."""
    folder = tmp_path / f"client-{client_id}"
    folder.mkdir()
    rows = ["session,date,instrument,item,value"]
    for number, value in ALLIANCE.items():
        day = MONDAY + dt.timedelta(weeks=number - 1)
        rows += [f"{number},{day},alliance_check,{item},{value:g}" for item in ITEMS]
    (folder / "responses.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "client.toml").write_text(
        f'client_id = "client-{client_id}"\n{events}', encoding="utf-8"
    )
    return run_course(folder, transcripts=False)


def _view(course: dict[str, Any]) -> dict[str, Any]:
    return {
        "events": course["events"],
        "episodes": [
            {k: e[k] for k in ("id", "opened_by", "state", "start_date", "timeline")}
            for e in course["episodes"]
        ],
        "alerts": [
            {k: a[k] for k in ("kind", "priority", "text", "reasons", "context")}
            for a in course["alerts"]
        ],
        "dropout": course["dropout"],
    }


def test_a_therapist_missed_appointment_is_the_librarys_event(world: World, tmp_path: Path) -> None:
    cid = _client(world, "Client with a forgotten appointment")
    appt = _appointment(world, cid, dt.datetime.combine(MISSED, dt.time(10), tzinfo=dt.UTC))
    _mark(world, appt, "therapist_missed")
    course = world.browser("alice").get(f"/api/clients/{cid}/course").json()["course"]
    assert course["events"] == [
        {"date": str(MISSED), "kind": "therapist_missed", "session": None, "note": None}
    ]
    (failure,) = [a for a in course["alerts"] if a["kind"] == "therapist_failure"]
    assert failure["text"].startswith(
        f"Alliance check fell from 9.0 to 4.0 after session 4 "
        f"(therapist-missed appointment on {MISSED})."
    )
    assert failure["reasons"][0] == f"therapist missed the appointment on {MISSED}"
    assert course["episodes"][0]["opened_by"] == "therapist_failure"
    folder = _folder_course(
        tmp_path, cid, f'[[events]]\ndate = {MISSED}\nkind = "therapist_missed"\n'
    )
    assert _view(course) == _view(folder.model_dump(mode="json"))
    # the client page shows the library's alert
    page = world.browser("alice").get(f"/clients/{cid}").text
    assert "therapist-missed appointment on " + str(MISSED) in page


def test_only_outcomes_that_say_who_are_events(world: World, tmp_path: Path) -> None:
    cid = _client(world, "Client with several outcomes")
    at = dt.time(10)
    days = [MONDAY + dt.timedelta(weeks=w, days=2) for w in range(6)]
    statuses = (
        "attended",
        "client_no_show",
        "client_cancelled",
        "therapist_cancelled",
        "scheduled",
    )
    for day, status in zip(days, statuses, strict=False):
        a = _appointment(world, cid, dt.datetime.combine(day, at, tzinfo=dt.UTC))
        if status != "scheduled":
            _mark(world, a, status)
    # a row written before outcomes said who: kept, shown, never an event
    legacy = _appointment(world, cid, dt.datetime.combine(days[5], at, tzinfo=dt.UTC))
    from attunement.store.tables_schedule import Appointment

    with world.store.tx() as db:
        row = db.get(Appointment, legacy)
        assert row is not None
        row.status = "missed"
    course = world.browser("alice").get(f"/api/clients/{cid}/course").json()["course"]
    assert [(e["date"], e["kind"]) for e in course["events"]] == [
        (str(days[1]), "client_no_show"),
        (str(days[2]), "client_cancelled"),
        (str(days[3]), "therapist_cancelled"),
    ]
    toml = "".join(
        f'[[events]]\ndate = {d}\nkind = "{k}"\n'
        for d, k in zip(days[1:4], statuses[1:4], strict=True)
    )
    assert _view(course) == _view(_folder_course(tmp_path, cid, toml).model_dump(mode="json"))
    page = world.browser("alice").get(f"/clients/{cid}").text
    assert "missed (who was not recorded)" in page and "cancelled by the therapist" in page


@pytest.mark.parametrize(
    ("zone", "local"), [("UTC", dt.date(2026, 2, 9)), ("Pacific/Auckland", dt.date(2026, 2, 10))]
)
def test_event_dates_are_in_the_clinics_time_zone(
    world: World, monkeypatch: pytest.MonkeyPatch, zone: str, local: dt.date
) -> None:
    cid = _client(world, f"Client late in the evening {zone.replace('/', ' ')}")
    late = dt.datetime(2026, 2, 9, 23, 30, tzinfo=dt.UTC)  # 12:30 next day in Auckland
    _mark(world, _appointment(world, cid, late), "therapist_missed")
    with world.store.tx() as db:
        (event,) = appointment_events(db, cid, ZoneInfo(zone))
    assert (event.date, event.kind) == (local, "therapist_missed")
    monkeypatch.setenv("ATTUNEMENT_TIMEZONE", zone)
    course = world.browser("alice").get(f"/api/clients/{cid}/course").json()["course"]
    assert course["events"][0]["date"] == str(local)


def _answer(world: World, cid: int, instrument: str, number: int, value: float, **kw: Any) -> None:
    inst = checks.instruments()[instrument]
    with world.store.tx() as db:
        checks.add_response(
            db,
            world.store.keys,
            client_id=cid,
            instrument=inst,
            session_number=number,
            date=MONDAY + dt.timedelta(weeks=number - 1),
            answers={i.id: value for i in inst.items if i.type != "text"},
            **kw,
        )


def test_the_srs_beside_the_alliance_check(world: World) -> None:
    """One person, two alliance instruments: the library reads the check's series and
    judges the SRS on its own scale; two people's alliance series feed neither rule."""
    cid = _client(world, "Client with a check and an SRS")
    _answer(world, cid, "srs", 5, 9.5)
    _answer(world, cid, "srs", 6, 8.2)
    course = world.browser("alice").get(f"/api/clients/{cid}/course").json()["course"]
    assert course["trajectories"]["srs"]["role"] == "alliance"
    assert [s["alliance"] for s in course["sessions"]] == list(ALLIANCE.values())
    assert any("read Alliance check; SRS is charted" in w for w in course["warnings"])
    (alert,) = [a for a in course["alerts"] if a["kind"] == "alliance"]
    assert alert["text"].startswith("SRS below 36 at session 6: 32.8 (down from 38 at session 5)")

    from attunement.store import cases

    with world.store.tx() as db:
        c = repo.create_client(
            db, world.store.keys, therapist_id=world.users["alice"], pseudonym="Couple"
        )
        a = cases.add_member(db, world.store.keys, client_id=c.id, label="A", role="member")
        b = cases.add_member(db, world.store.keys, client_id=c.id, label="B", role="member")
    for n in (1, 2):
        _answer(world, c.id, "srs", n, 9.0, member_id=a.id)
        _answer(world, c.id, "alliance_check", n, 8.0, member_id=b.id)
    course = world.browser("alice").get(f"/api/clients/{c.id}/course").json()["course"]
    trajs = course["trajectories"]
    assert trajs[f"srs_m{a.id}"]["role"] == trajs[f"alliance_check_m{b.id}"]["role"] == "other"
    assert all(s["alliance"] is None for s in course["sessions"])
    assert any(
        "alliance questionnaires are answered by several people" in w for w in course["warnings"]
    )
