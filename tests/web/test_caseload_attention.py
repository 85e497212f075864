"""The caseload order with the library's course alerts: safety alert > high course alert >
session flags > unrepaired episodes > medium course alert > … , the reason in words on
the row, and the per-client cache of course alerts that follows every change."""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from clinic_helpers import add_user, make_app, page_csrf, sign_in
from sqlalchemy import select

from attunement.store import checks, repo
from attunement.store.fingerprint import client_fingerprints
from attunement.store.tables import Client, Job
from attunement.web import course_cache
from attunement.web.demo import item_answers

UNREPAIRED = (
    "Therapist: How have things been this week?\n"
    "Client: Fine I guess. Whatever.\n"
    "Therapist: Let's go through your homework sheet then.\n"
    "Client: I don't know, this isn't helping. You never listen to me.\n"
    "Therapist: We need to finish the worksheet before the end of the hour.\n"
    "Client: Sure. Whatever you say.\n"
)
GOODBYE = (resources.files("attunement") / "examples/sessions/cheerful-goodbye.txt").read_bytes()
START = dt.date(2026, 3, 2)
NONE_YET = "no session uploaded yet"  # answers but no transcript


@pytest.fixture
def app(backend: str, tmp_path: Path, pipeline: Any) -> Any:
    app = make_app(backend, tmp_path / "k.key", pipeline)
    course_cache.CACHE.clear()
    yield app
    app.state.store.close()


def _answers(db: Any, keys: Any, client_id: int, series: list[tuple[int, int]]) -> None:
    """Alliance check and rupture check totals per session, a week apart."""
    inst = checks.instruments()
    for k, (alliance, tension) in enumerate(series, start=1):
        date = START + dt.timedelta(days=7 * k)
        for iid, total in (("alliance_check", alliance), ("rupture_check", tension)):
            checks.add_response(
                db,
                keys,
                client_id=client_id,
                instrument=inst[iid],
                session_number=k,
                date=date,
                answers=item_answers(inst[iid], total),
            )


def _clinic(app: Any) -> tuple[int, dict[str, int]]:
    """One therapist's clients, each needing attention for one reason."""
    store = app.state.store
    uid = add_user(store, "alice", "therapist")
    ids: dict[str, int] = {}
    tension = [(8, 0), (8, 0), (8, 3)]  # strain reported after session 3: an open episode
    with store.tx() as db:
        keys = store.keys

        def client(name: str, **kw: Any) -> int:
            ids[name] = repo.create_client(db, keys, therapist_id=uid, pseudonym=name, **kw).id
            return ids[name]

        client("Quiet")  # nothing uploaded
        _answers(db, keys, client("Medium course", sensitivity="low"), tension)
        _answers(db, keys, client("High course"), tension)  # new alliance: raised to high
        # transcripts without a session number: the caseload reads their summary, the
        # course (which needs numbered sessions) does not
        for name, data in (("Unrepaired", UNREPAIRED.encode()), ("Flagged", GOODBYE)):
            repo.add_session(
                db, keys, client_id=client(name), uploaded_by=uid, filename="s.txt", data=data
            )
        inst = checks.instruments()["phq9"]
        checks.add_response(
            db,
            keys,
            client_id=client("Safety"),
            instrument=inst,
            session_number=1,
            date=START,
            answers=item_answers(inst, 12, risk_item=True),
        )
    assert app.state.worker.drain() == 2
    return uid, ids


ORDER = ["Safety", "High course", "Flagged", "Unrepaired", "Medium course", "Quiet"]


def test_caseload_orders_course_alerts_between_safety_and_flags(app: Any) -> None:
    _uid, ids = _clinic(app)
    browser = sign_in(app, "alice")
    cases = browser.get("/api/caseload").json()
    assert [c["client"]["pseudonym"] for c in cases] == ORDER
    by_name = {c["client"]["pseudonym"]: c for c in cases}
    # the PHQ-9 item's course alert (kind "safety") is not repeated under the safety alert
    assert by_name["Safety"]["reasons"] == [
        "safety alert: 1 answer to review",
        NONE_YET,
    ]
    high = by_name["High course"]["reasons"]
    assert high[0].startswith("Rupture episode E1") and "open since session 3" in high[0]
    assert "worth raising early" in high[0]  # the library's own wording, context included
    assert by_name["Flagged"]["reasons"][0] == "risk of ending therapy"
    assert by_name["Unrepaired"]["reasons"] == ["1 rupture episode not yet repaired"]
    medium = by_name["Medium course"]["reasons"]
    assert medium == ["Rupture episode E1 (unknown) open since session 3.", NONE_YET]
    page = browser.get("/").text  # the row shows the reason text
    assert page.index("Safety") < page.index("High course") < page.index("Flagged")
    assert "open since session 3. Given the context, worth raising early" in page
    levels = re.findall(r'<li class="case ?([a-z]*)">\s*<a href="/clients/(\d+)"', page)
    by_id = {int(i): level for level, i in levels}
    assert [by_id[ids[n]] for n in ORDER] == [
        "urgent",
        "urgent",
        "urgent",
        "attention",
        "attention",
        "",
    ]

    # acknowledging the safety alert ends its rank; the PHQ-9 item's course alert (kind
    # "safety") is the same answer and does not keep the client on top
    with app.state.store.tx() as db:
        (open_alert,) = checks.alerts_of(db, [ids["Safety"]])
    r = browser.post(
        f"/alerts/{open_alert.id}/acknowledge",
        data={"csrf_token": page_csrf(browser)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    names = [c["client"]["pseudonym"] for c in browser.get("/api/caseload").json()]
    assert names.index("Safety") > names.index("Medium course")


def test_course_alerts_are_cached_and_follow_every_change(app: Any) -> None:
    uid, ids = _clinic(app)
    store = app.state.store
    cache = course_cache.CACHE
    browser = sign_in(app, "alice")
    browser.get("/")
    assert cache.misses == len(ORDER) and cache.hits == 0
    browser.get("/")  # nothing changed: nothing recomputed
    assert cache.misses == len(ORDER) and cache.hits == len(ORDER)

    def reasons(name: str) -> list[str]:
        cases = browser.get("/api/caseload").json()
        return next(c["reasons"] for c in cases if c["client"]["pseudonym"] == name)

    # a new answer: the strain settles, the episode is no longer an alert
    before = cache.misses
    with store.tx() as db:
        _answers(db, store.keys, ids["Medium course"], [(8, 0)] * 3 + [(9, 0), (9, 0)])
    assert reasons("Medium course") == [NONE_YET]
    assert cache.misses == before + 1  # only that client was recomputed

    # a clinician-set context detail: lowering sensitivity turns high into medium
    with store.tx() as db:
        row = db.get(Client, ids["High course"])
        assert row is not None
        row.sensitivity = "low"
    assert reasons("High course") == [
        "Rupture episode E1 (unknown) open since session 3.",
        NONE_YET,
    ]

    # a newly analyzed, numbered session enters the course (a job finishing)
    with store.tx() as db:
        _sid, job_id = repo.add_session(
            db,
            store.keys,
            client_id=ids["Quiet"],
            uploaded_by=uid,
            filename="s.txt",
            data=UNREPAIRED.encode(),
            number=1,
            date=START,
        )
    queued = reasons("Quiet")
    assert queued == ["1 analysis in progress"]
    assert app.state.worker.drain() == 1
    with store.tx() as db:
        job = db.get(Job, job_id)
        assert job is not None and job.status == "done"
    done = reasons("Quiet")
    assert "1 rupture episode not yet repaired" in done
    assert any(r.startswith("Rupture episode E1") for r in done)  # the course saw it


def test_fingerprint_covers_the_client_row_children_and_grandchildren(app: Any) -> None:
    _uid, ids = _clinic(app)
    store = app.state.store
    all_ids = list(ids.values())

    def prints() -> dict[int, str]:
        with store.tx() as db:
            return client_fingerprints(db, all_ids)

    first = prints()
    assert prints() == first  # stable while nothing changes
    assert len(set(first.values())) == len(first)  # one per client
    target = ids["Unrepaired"]
    others = {k: v for k, v in first.items() if k != target}

    with store.tx() as db:  # grandchild: a job row (via therapy_sessions)
        job = next(
            j for j in db.scalars(select(Job)) if repo.session_client(db, j.session_id) == target
        )
        job.progress = 99
    second = prints()
    assert second[target] != first[target]
    assert {k: v for k, v in second.items() if k != target} == others

    with store.tx() as db:  # an encrypted column rewritten with the same text
        row = db.get(Client, target)
        assert row is not None
        row.pseudonym_enc = store.keys.encrypt_text("Unrepaired", "clients.pseudonym")
    third = prints()
    assert third[target] != second[target]

    with store.tx() as db:  # a child row deleted
        from attunement.store.tables import TherapySession

        for s in db.scalars(select(TherapySession).where(TherapySession.client_id == target)):
            db.delete(s)
    assert prints()[target] != third[target]
    with store.tx() as db:
        assert client_fingerprints(db, []) == {}
