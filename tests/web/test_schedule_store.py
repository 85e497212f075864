"""The scheduling store on SQLite and PostgreSQL: appointments (notes encrypted, times in
UTC, the forgotten-appointment state), contacts (address encrypted, consent), reminder
rules, calendar feeds (token hashed, revocable), client deletion cascading."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from attunement.store import repo, schedule
from attunement.store.db import Store
from attunement.store.tables import Client
from attunement.store.tables_schedule import (
    Appointment,
    CalendarFeed,
    ClientContact,
    OutboxMessage,
    ReminderRule,
)

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def store(backend: str, tmp_path: Path) -> Iterator[Store]:
    s = Store.open(backend, tmp_path / "k.key")
    yield s
    s.close()


def _client(store: Store) -> tuple[int, int]:
    with store.tx() as db:
        user = repo.create_user(db, "dana", "therapist", "x")
        c = repo.create_client(db, store.keys, therapist_id=user.id, pseudonym="Maple")
        return user.id, c.id


def test_local_time_to_utc() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert schedule.local_to_utc("2026-03-09", "14:30", berlin) == dt.datetime(
        2026, 3, 9, 13, 30, tzinfo=dt.UTC
    )
    assert schedule.local_to_utc("2026-07-09", "14:30", berlin).hour == 12  # summer time
    with pytest.raises(repo.InputError) as err:
        schedule.local_to_utc("next tuesday", "14:30", berlin)
    assert err.value.where == "date" and "tuesday" not in str(err.value)


def test_appointments_round_trip(store: Store) -> None:
    therapist, client = _client(store)
    with store.tx() as db:
        later = schedule.create_appointment(
            db,
            store.keys,
            client_id=client,
            starts_at=NOW + dt.timedelta(days=2),
            minutes=50,
            now=NOW,
            note="Bring the   worksheet",
        )
        gone = schedule.create_appointment(
            db,
            store.keys,
            client_id=client,
            starts_at=NOW - dt.timedelta(hours=3),
            minutes=50,
            now=NOW,
        )
    assert later.therapist_id == therapist and later.note == "Bring the worksheet"
    with store.tx() as db:
        raw = db.scalar(sa.select(Appointment.note_enc).where(Appointment.id == later.id))
        assert raw is not None and b"worksheet" not in raw
        views = schedule.appointments_of(db, store.keys, client)
    assert [v.id for v in views] == [gone.id, later.id]  # oldest first
    assert all(v.starts_at.tzinfo is not None for v in views)
    assert views[1].starts_at == NOW + dt.timedelta(days=2)
    assert [v.needs_attention(NOW) for v in views] == [True, False]  # passed, not marked
    with store.tx() as db:
        assert schedule.set_status(db, gone.id, "attended", NOW)
        assert not schedule.set_status(db, gone.id, "attended", NOW)  # unchanged
        with pytest.raises(repo.InputError):
            schedule.set_status(db, gone.id, "done", NOW)
        views = schedule.appointments_of(db, None, client)
    assert views[0].status == "attended" and not views[0].needs_attention(NOW)
    assert views[1].note is None  # not decrypted without the keys
    with store.tx() as db:
        upcoming = schedule.appointments_for(db, {therapist}, since=NOW)
        assert [a.id for a in upcoming] == [later.id]
        assert schedule.appointments_for(db, {therapist + 99}, since=NOW - dt.timedelta(1)) == []


@pytest.mark.parametrize(
    ("minutes", "offset", "where"),
    [(4, 1, "minutes"), (481, 1, "minutes"), (50, 3 * 366 + 2, "date"), (50, -400, "date")],
)
def test_appointment_input_errors(store: Store, minutes: int, offset: int, where: str) -> None:
    _t, client = _client(store)
    with store.tx() as db, pytest.raises(repo.InputError) as err:
        schedule.create_appointment(
            db,
            store.keys,
            client_id=client,
            starts_at=NOW + dt.timedelta(days=offset),
            minutes=minutes,
            now=NOW,
        )
    assert err.value.where == where


def test_contact_encrypted_and_consent(store: Store) -> None:
    _t, client = _client(store)
    with store.tx() as db:
        assert schedule.get_contact(db, store.keys, client) is None
        view = schedule.set_contact(
            db, store.keys, client, email=" maple@example.org ", consent=True, now=NOW
        )
        assert view.reachable and view.email == "maple@example.org"
        raw = db.scalar(sa.select(ClientContact.email_enc))
        assert raw is not None and b"maple" not in raw
        assert schedule.contacts_of(db, store.keys, [client]) == {client: "maple@example.org"}
        schedule.set_contact(
            db, store.keys, client, email="maple@example.org", consent=False, now=NOW
        )
        assert schedule.contacts_of(db, store.keys, [client]) == {}  # no consent: not reachable
        cleared = schedule.set_contact(db, store.keys, client, email="", consent=True, now=NOW)
        assert cleared.email is None and not cleared.consent  # consent needs an address
    for bad in ("not an address", "a@b.org\r\nBcc: x@y.org", "a@b", "x" * 250 + "@b.org"):
        with store.tx() as db, pytest.raises(repo.InputError) as err:
            schedule.set_contact(db, store.keys, client, email=bad, consent=True, now=NOW)
        assert err.value.where == "email" and "b.org" not in str(err.value)


def test_reminder_rules(store: Store) -> None:
    _t, client = _client(store)
    with store.tx() as db:
        rule = schedule.set_rule(db, client, "appointment", active=True, now=NOW, hours_before=24)
        assert rule.hours_before == 24 and rule.instrument is None
        weekly = schedule.set_rule(
            db, client, "check_weekly", active=True, now=NOW, weekday=2, hour=9, instrument="phq9"
        )
        again = schedule.set_rule(db, client, "appointment", active=True, now=NOW, hours_before=2)
        assert again.id == rule.id and again.hours_before == 2  # one rule per kind
        later = NOW + dt.timedelta(days=1)
        schedule.set_rule(
            db,
            client,
            "check_weekly",
            active=False,
            now=later,
            weekday=2,
            hour=9,
            instrument="phq9",
        )
        on = schedule.set_rule(
            db, client, "check_weekly", active=True, now=later, weekday=2, hour=9, instrument="phq9"
        )
        assert on.id == weekly.id and schedule.aware(on.active_since) == later  # restarted
        assert db.scalar(sa.select(sa.func.count()).select_from(ReminderRule)) == 2
    bad: list[tuple[str, dict[str, object], str]] = [
        ("appointment", {"hours_before": 0}, "hours before"),
        ("check_weekly", {"weekday": 7, "hour": 9, "instrument": "phq9"}, "weekday"),
        ("check_weekly", {"weekday": 1, "hour": 24, "instrument": "phq9"}, "hour"),
        ("check_after_session", {"instrument": "mood_ring"}, "instrument"),
        ("monthly", {}, "kind"),
    ]
    for kind, values, where in bad:
        with store.tx() as db, pytest.raises(repo.InputError) as err:
            schedule.set_rule(db, client, kind, active=True, now=NOW, **values)  # type: ignore[arg-type]
        assert err.value.where == where


def test_calendar_feed_token_hashed_and_revocable(store: Store) -> None:
    therapist, _c = _client(store)
    with store.tx() as db:
        first = schedule.create_feed(db, therapist, NOW)
        assert schedule.feed_owner(db, first) == therapist
        stored = db.scalars(sa.select(CalendarFeed.token_hash)).all()
        assert stored == [hashlib.sha256(first.encode()).hexdigest()]  # never the token
        second = schedule.create_feed(db, therapist, NOW)  # replaces the first
        assert schedule.feed_owner(db, first) is None
        assert schedule.feed_owner(db, second) == therapist
        assert schedule.revoke_feeds(db, therapist, NOW) == 1
        assert schedule.feed_owner(db, second) is None
        assert schedule.active_feed(db, therapist) is None
        assert schedule.feed_owner(db, "") is None and schedule.feed_owner(db, "x" * 200) is None


def test_client_deletion_removes_schedule_rows(store: Store) -> None:
    from attunement.store import mail

    _t, client = _client(store)
    with store.tx() as db:
        schedule.create_appointment(
            db, store.keys, client_id=client, starts_at=NOW, minutes=50, now=NOW
        )
        schedule.set_contact(db, store.keys, client, email="m@example.org", consent=True, now=NOW)
        schedule.set_rule(db, client, "appointment", active=True, now=NOW, hours_before=24)
        mail.enqueue(
            db,
            store.keys,
            client_id=client,
            kind="appointment",
            related_type="appointment",
            related_id=1,
            dedup_key="appt:1",
            to="m@example.org",
            subject="s",
            body="b",
            now=NOW,
        )
    with store.tx() as db:
        db.execute(sa.delete(Client).where(Client.id == client))
    with store.tx() as db:
        for table in (Appointment, ClientContact, ReminderRule, OutboxMessage):
            assert db.scalar(sa.select(sa.func.count()).select_from(table)) == 0, table


def test_key_rotation_reseals_schedule_columns(backend: str, tmp_path: Path) -> None:
    from attunement.store import mail
    from attunement.store.rotate import rotate_key

    key = tmp_path / "k.key"
    store = Store.open(backend, key)
    _t, client = _client(store)
    with store.tx() as db:
        schedule.create_appointment(
            db, store.keys, client_id=client, starts_at=NOW, minutes=50, now=NOW, note="n1"
        )
        schedule.set_contact(db, store.keys, client, email="m@example.org", consent=True, now=NOW)
        mail.enqueue(
            db,
            store.keys,
            client_id=client,
            kind="appointment",
            related_type="appointment",
            related_id=1,
            dedup_key="appt:1",
            to="m@example.org",
            subject="s",
            body="b",
            now=NOW,
        )
    assert rotate_key(store.engine, key).values >= 5  # pseudonym, note, e-mail, to, body
    store.close()
    again = Store.open(backend, key)  # the rotated key file opens every value
    try:
        with again.tx() as db:
            assert schedule.appointments_of(db, again.keys, client)[0].note == "n1"
            assert schedule.contacts_of(db, again.keys, [client]) == {client: "m@example.org"}
            row = db.scalars(sa.select(OutboxMessage)).one()
            assert again.keys.decrypt_text(row.to_enc, mail.TO) == "m@example.org"
    finally:
        again.close()
