"""Appointments, client contact details, reminder rules and calendar feeds (the SQL side),
(the calendar feed's iCal text is :mod:`attunement.store.ical`).

Times are stored in UTC; forms give a date and time in the clinic's time zone
(``ATTUNEMENT_TIMEZONE``, see :mod:`attunement.store.mail`) and :func:`local_to_utc`
converts them. An appointment whose time has passed while it is still ``scheduled``
needs the clinician's attention (:meth:`AppointmentView.needs_attention`): the
forgotten-appointment case. The calendar feed shows no client names: an event is
"Session (Attunement #<client id>)", because a phone calendar is not a clinical record.
Nothing here decides who may do what (``attunement.web.permissions`` does).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from attunement.store.repo import InputError
from attunement.store.tables import Client, aware
from attunement.store.tables_schedule import (
    APPOINTMENT_OUTCOMES,
    APPOINTMENT_STATES,
    CANCELLED_STATES,
    COURSE_EVENTS,
    LEGACY_STATES,
    OUTCOME_CHOICES,
    RULE_KINDS,
    SETTABLE_STATES,
    STATUS_LABELS,
    Appointment,
    CalendarFeed,
    ClientContact,
    ReminderRule,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy.orm import Session

    from attunement.store.crypto import Keyring

#: the outcome vocabulary lives with the table; it is re-exported here
__all__ = [
    "APPOINTMENT_OUTCOMES",
    "APPOINTMENT_STATES",
    "CANCELLED_STATES",
    "COURSE_EVENTS",
    "LEGACY_STATES",
    "OUTCOME_CHOICES",
    "SETTABLE_STATES",
    "STATUS_LABELS",
]

NOTE = "appointments.note"
EMAIL = "client_contacts.email"
MIN_MINUTES, MAX_MINUTES = 5, 480
MAX_NOTE = 500
MAX_HOURS_BEFORE = 24 * 7
#: a plain address: no spaces, no line breaks (header injection), one @, a dotted domain
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def local_to_utc(date: str, time: str, tz: ZoneInfo) -> dt.datetime:
    """A form's date (2026-03-09) and time (14:30) in the clinic's zone → UTC."""
    try:
        day = dt.date.fromisoformat(date.strip())
    except ValueError:
        raise InputError("expected a date like 2026-03-09", where="date") from None
    try:
        clock = dt.time.fromisoformat(time.strip())
    except ValueError:
        raise InputError("expected a time like 14:30", where="time") from None
    return dt.datetime.combine(day, clock.replace(tzinfo=None), tzinfo=tz).astimezone(dt.UTC)


# --- appointments -------------------------------------------------------------------


@dataclass
class AppointmentView:
    id: int
    client_id: int
    therapist_id: int
    starts_at: dt.datetime
    minutes: int
    status: str
    status_at: dt.datetime
    note: str | None
    reminder_sent_at: dt.datetime | None

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.minutes)

    def needs_attention(self, now: dt.datetime) -> bool:
        """Its time has passed and nobody recorded what became of it."""
        return self.status == "scheduled" and self.ends_at <= now

    @property
    def cancelled(self) -> bool:
        return self.status in CANCELLED_STATES

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_id": self.client_id,
            "therapist_id": self.therapist_id,
            "starts_at": self.starts_at,
            "minutes": self.minutes,
            "status": self.status,
            "note": self.note,
            "reminder_sent_at": self.reminder_sent_at,
        }


def _view(keys: Keyring | None, a: Appointment) -> AppointmentView:
    note = keys.decrypt_text(a.note_enc, NOTE) if keys is not None and a.note_enc else None
    return AppointmentView(
        id=a.id,
        client_id=a.client_id,
        therapist_id=a.therapist_id,
        starts_at=aware(a.starts_at),
        minutes=a.minutes,
        status=a.status,
        status_at=aware(a.status_at),
        note=note,
        reminder_sent_at=aware(a.reminder_sent_at) if a.reminder_sent_at else None,
    )


def _check_note(note: str | None) -> str | None:
    text = " ".join((note or "").split())
    if not text:
        return None
    if len(text) > MAX_NOTE:
        raise InputError(f"at most {MAX_NOTE} characters", where="note")
    if any(not ch.isprintable() for ch in text):
        raise InputError("contains control or invalid characters", where="note")
    return text


def create_appointment(
    db: Session,
    keys: Keyring,
    *,
    client_id: int,
    starts_at: dt.datetime,
    minutes: int,
    now: dt.datetime,
    note: str | None = None,
) -> AppointmentView:
    """A scheduled appointment, with the client's therapist (the owner) as therapist."""
    if starts_at.tzinfo is None:
        raise InputError("needs a time zone", where="starts_at")
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise InputError(f"must be between {MIN_MINUTES} and {MAX_MINUTES}", where="minutes")
    if not now - dt.timedelta(days=366) <= starts_at <= now + dt.timedelta(days=3 * 366):
        raise InputError("must be within the past year or the next three years", where="date")
    therapist_id = db.scalar(select(Client.therapist_id).where(Client.id == client_id))
    if therapist_id is None:
        raise InputError("no such client", where="client")
    text = _check_note(note)
    row = Appointment(
        client_id=client_id,
        therapist_id=therapist_id,
        starts_at=starts_at.astimezone(dt.UTC),
        minutes=minutes,
        status="scheduled",
        status_at=now,
        note_enc=keys.encrypt_text(text, NOTE) if text else None,
        created_at=now,
    )
    db.add(row)
    db.flush()
    return _view(keys, row)


def appointments_of(
    db: Session, keys: Keyring | None, client_id: int, *, newest_first: bool = False
) -> list[AppointmentView]:
    """A client's appointments (notes decrypted only when ``keys`` is given)."""
    order = Appointment.starts_at.desc() if newest_first else Appointment.starts_at
    rows = db.scalars(select(Appointment).where(Appointment.client_id == client_id).order_by(order))
    return [_view(keys, a) for a in rows.all()]


def appointments_for(
    db: Session,
    therapist_ids: Collection[int],
    *,
    since: dt.datetime,
    until: dt.datetime | None = None,
) -> list[AppointmentView]:
    """Appointments of these therapists starting in [since, until), without notes."""
    if not therapist_ids:
        return []
    q = select(Appointment).where(
        Appointment.therapist_id.in_(list(therapist_ids)), Appointment.starts_at >= since
    )
    if until is not None:
        q = q.where(Appointment.starts_at < until)
    return [_view(None, a) for a in db.scalars(q.order_by(Appointment.starts_at)).all()]


def appointment_client(db: Session, appointment_id: int) -> int | None:
    return db.scalar(select(Appointment.client_id).where(Appointment.id == appointment_id))


def set_status(db: Session, appointment_id: int, status: str, now: dt.datetime) -> bool:
    """Record what became of it (:data:`SETTABLE_STATES`: attended, who did not come or
    who cancelled, or back to scheduled); False if unchanged. The legacy states are
    never written."""
    if status not in SETTABLE_STATES:
        raise InputError(f"must be one of {', '.join(SETTABLE_STATES)}", where="status")
    done = db.execute(
        update(Appointment)
        .where(Appointment.id == appointment_id, Appointment.status != status)
        .values(status=status, status_at=now)
    )
    return getattr(done, "rowcount", 0) == 1


# --- contact details ----------------------------------------------------------------


@dataclass
class ContactView:
    email: str | None
    consent: bool

    @property
    def reachable(self) -> bool:
        return bool(self.email) and self.consent


def check_email(email: str) -> str | None:
    text = email.strip()
    if not text:
        return None
    if len(text) > 254 or not _EMAIL.match(text):
        raise InputError("expected an e-mail address like name@example.org", where="email")
    return text


def get_contact(db: Session, keys: Keyring, client_id: int) -> ContactView | None:
    row = db.scalars(select(ClientContact).where(ClientContact.client_id == client_id)).first()
    if row is None:
        return None
    email = keys.decrypt_text(row.email_enc, EMAIL) if row.email_enc else None
    return ContactView(email=email, consent=row.email_consent)


def contacts_of(db: Session, keys: Keyring, client_ids: Collection[int]) -> dict[int, str]:
    """client id → e-mail address, for clients who consented to e-mail reminders."""
    if not client_ids:
        return {}
    rows = db.scalars(
        select(ClientContact).where(
            ClientContact.client_id.in_(list(client_ids)),
            ClientContact.email_consent.is_(True),
            ClientContact.email_enc.is_not(None),
        )
    ).all()
    return {r.client_id: keys.decrypt_text(r.email_enc, EMAIL) for r in rows if r.email_enc}


def set_contact(
    db: Session, keys: Keyring, client_id: int, *, email: str, consent: bool, now: dt.datetime
) -> ContactView:
    """Store (or clear) the address; consent without an address is not kept."""
    address = check_email(email)
    consent = consent and address is not None
    row = db.scalars(select(ClientContact).where(ClientContact.client_id == client_id)).first()
    if row is None:
        row = ClientContact(client_id=client_id, created_at=now)
        db.add(row)
    row.email_enc = keys.encrypt_text(address, EMAIL) if address else None
    row.email_consent = consent
    row.updated_at = now
    db.flush()
    return ContactView(email=address, consent=consent)


# --- reminder rules -----------------------------------------------------------------


def rules_of(db: Session, client_ids: Iterable[int]) -> list[ReminderRule]:
    ids = list(client_ids)
    if not ids:
        return []
    q = select(ReminderRule).where(ReminderRule.client_id.in_(ids)).order_by(ReminderRule.id)
    return list(db.scalars(q).all())


def set_rule(
    db: Session,
    client_id: int,
    kind: str,
    *,
    active: bool,
    now: dt.datetime,
    hours_before: int | None = None,
    weekday: int | None = None,
    hour: int | None = None,
    instrument: str | None = None,
) -> ReminderRule:
    """Create or change the client's rule of this kind; (re)activating it restarts
    ``active_since`` so that nothing before that moment is reminded of."""
    from attunement.store.checks import CHECK_INSTRUMENTS

    if kind not in RULE_KINDS:
        raise InputError(f"must be one of {', '.join(RULE_KINDS)}", where="kind")
    if kind == "appointment":
        if hours_before is None or not 1 <= hours_before <= MAX_HOURS_BEFORE:
            raise InputError(f"must be between 1 and {MAX_HOURS_BEFORE}", where="hours before")
        weekday = hour = None
        instrument = None
    else:
        if instrument not in CHECK_INSTRUMENTS:
            raise InputError(f"must be one of {', '.join(CHECK_INSTRUMENTS)}", where="instrument")
        hours_before = None
        if kind == "check_weekly":
            if weekday is None or not 0 <= weekday <= 6:
                raise InputError("must be a day of the week", where="weekday")
            if hour is None or not 0 <= hour <= 23:
                raise InputError("must be between 0 and 23", where="hour")
        else:
            weekday = hour = None
    row = db.scalars(
        select(ReminderRule).where(ReminderRule.client_id == client_id, ReminderRule.kind == kind)
    ).first()
    if row is None:
        row = ReminderRule(client_id=client_id, kind=kind, active=False, created_at=now)
        row.active_since = now
        db.add(row)
    if active and not row.active:
        row.active_since = now
    row.active = active
    row.hours_before, row.weekday, row.hour, row.instrument = (
        hours_before,
        weekday,
        hour,
        instrument,
    )
    db.flush()
    return row


# --- calendar feeds -----------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def create_feed(db: Session, user_id: int, now: dt.datetime) -> str:
    """A new calendar link for ``user_id`` (earlier ones are revoked); the token is
    returned once, the table keeps its SHA-256."""
    revoke_feeds(db, user_id, now)
    token = secrets.token_urlsafe(32)
    db.add(CalendarFeed(user_id=user_id, token_hash=_hash(token), created_at=now))
    db.flush()
    return token


def revoke_feeds(db: Session, user_id: int, now: dt.datetime) -> int:
    done = db.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(done, "rowcount", 0))


def active_feed(db: Session, user_id: int) -> CalendarFeed | None:
    return db.scalars(
        select(CalendarFeed).where(
            CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None)
        )
    ).first()


def feed_owner(db: Session, token: str) -> int | None:
    """The user whose open feed ``token`` is, else None (unknown and revoked alike)."""
    if not token or len(token) > 100:
        return None
    return db.scalar(
        select(CalendarFeed.user_id).where(
            CalendarFeed.token_hash == _hash(token), CalendarFeed.revoked_at.is_(None)
        )
    )
