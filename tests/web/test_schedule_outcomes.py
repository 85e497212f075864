"""Appointment outcomes that say who: attended, client did not come, client cancelled,
therapist cancelled, therapist missed; old "cancelled"/"missed" rows stay readable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from clinic_helpers import World, page_csrf

from attunement.store import ical, repo, schedule
from attunement.store.db import Store
from attunement.store.tables import AuditEntry, utcnow
from attunement.store.tables_schedule import Appointment

NOW = dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(backend: str, tmp_path: Path) -> Any:
    s = Store.open(backend, tmp_path / "k.key")
    yield s
    s.close()


def _client(store: Store) -> int:
    with store.tx() as db:
        user = repo.create_user(db, "olive", "therapist", "h")
        return repo.create_client(db, store.keys, therapist_id=user.id, pseudonym="P").id


def test_every_outcome_is_stored_and_the_legacy_ones_are_read_only(store: Store) -> None:
    client = _client(store)
    with store.tx() as db:
        ids = [
            schedule.create_appointment(
                db,
                store.keys,
                client_id=client,
                starts_at=NOW - dt.timedelta(days=n + 1),
                minutes=50,
                now=NOW,
            ).id
            for n in range(len(schedule.APPOINTMENT_OUTCOMES))
        ]
        for appt, status in zip(ids, schedule.APPOINTMENT_OUTCOMES, strict=True):
            assert schedule.set_status(db, appt, status, NOW)  # 19 characters fit (v0008)
        for legacy in schedule.LEGACY_STATES:
            with pytest.raises(repo.InputError, match="must be one of") as err:
                schedule.set_status(db, ids[0], legacy, NOW)
            assert err.value.where == "status"
        # a row from before v0008 keeps its status
        db.execute(sa.update(Appointment).where(Appointment.id == ids[0]).values(status="missed"))
        views = {v.id: v for v in schedule.appointments_of(db, None, client)}
    got = [views[i].status for i in ids]
    assert got == ["missed", *schedule.APPOINTMENT_OUTCOMES[1:]]
    assert views[ids[0]].label == "missed (who was not recorded)"
    assert not any(v.needs_attention(NOW) for v in views.values())
    assert {views[i].status for i in ids if views[i].cancelled} == {
        "client_cancelled",
        "therapist_cancelled",
    }
    assert set(schedule.COURSE_EVENTS) == {
        "client_no_show",
        "client_cancelled",
        "therapist_cancelled",
        "therapist_missed",
    }
    assert set(schedule.STATUS_LABELS) == set(schedule.APPOINTMENT_STATES)
    text = ical.calendar(list(views.values()), now=NOW, clinic="C")
    assert text.count("STATUS:CANCELLED") == 2  # by the client and by the therapist


def _appointment(world: World, starts: dt.datetime) -> schedule.AppointmentView:
    with world.store.tx() as db:
        return schedule.create_appointment(
            db,
            world.store.keys,
            client_id=world.clients["alice"],
            starts_at=starts,
            minutes=50,
            now=utcnow(),
        )


def test_the_client_page_records_who_missed_or_cancelled(world: World) -> None:
    alice = world.browser("alice")
    cid = world.clients["alice"]
    gone = _appointment(world, utcnow() - dt.timedelta(days=2, hours=1))
    coming = _appointment(world, utcnow() + dt.timedelta(days=3))
    page = alice.get(f"/clients/{cid}").text
    box = page[page.index("passed without being marked") : page.index("</section>")]
    for status, label in schedule.OUTCOME_CHOICES:
        assert f'name="status" value="{status}"' in box and f">{label}</button>" in box
    assert "goes into the client's course" in box
    # the coming appointment: cancelled by whom
    row = page[page.index("Coming appointments") :]
    row = row[: row.index("</table>")]
    assert 'value="client_cancelled"' in row and 'value="therapist_cancelled"' in row
    r = alice.post(
        f"/appointments/{gone.id}/status",
        data={"csrf_token": page_csrf(alice), "status": "therapist_missed"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = alice.post(
        f"/appointments/{coming.id}/status",
        data={"csrf_token": page_csrf(alice), "status": "client_cancelled"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = alice.get(f"/clients/{cid}").text
    past = page[page.index("Earlier and cancelled appointments") :]
    past = past[: past.index("</details>")]
    assert "missed by the therapist" in past and "cancelled by the client" in past
    # each row: a labelled choice of what happened (a cancelled one ahead: still on, or by whom)
    assert f'<label for="outcome-{gone.id}" class="sr">What happened' in past
    assert f'id="outcome-{gone.id}" name="status"' in past
    ahead = past[past.index(f'id="outcome-{coming.id}"') :]
    ahead = ahead[: ahead.index("</select>")]
    assert 'value="scheduled"' in ahead and 'value="therapist_cancelled"' in ahead
    assert 'value="therapist_missed"' not in ahead
    with world.store.tx() as db:
        actions = list(db.scalars(sa.select(AuditEntry.action).where(AuditEntry.actor == "alice")))
    assert "appointment.therapist_missed" in actions and "appointment.client_cancelled" in actions
    r = alice.post(
        f"/appointments/{gone.id}/status",
        data={"csrf_token": page_csrf(alice), "status": "missed"},  # the old wording
    )
    assert r.status_code == 400 and "status: must be one of" in r.text and "missed by" not in r.text


def test_schedule_page_and_api_name_the_outcomes(world: World) -> None:
    alice = world.browser("alice")
    _appointment(world, utcnow() - dt.timedelta(days=1, hours=2))
    page = alice.get("/schedule").text
    box = page[page.index("Passed without being marked") : page.index("</section>")]
    assert all(f'value="{s}"' in box for s, _label in schedule.OUTCOME_CHOICES)
    assert 'value="missed"' not in box and 'value="cancelled"' not in box
    spec = alice.get("/api/openapi.json").json()
    status = spec["components"]["schemas"]["AppointmentOut"]["properties"]["status"]
    assert status["enum"] == list(schedule.APPOINTMENT_STATES)
    assert "therapist_missed" in status["description"]
