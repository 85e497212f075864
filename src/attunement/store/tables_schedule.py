"""Tables for schedule (see the migration of the same name). Registered on
:class:`attunement.store.tables.Base` when :mod:`attunement.store.tables` is imported.

* ``appointments``: a session on the calendar; ``status`` is ``scheduled`` or what
  happened (:data:`APPOINTMENT_OUTCOMES`: who did not come or cancelled — the course's
  events; widened to 24 characters by v0008), ``status_at`` is when the status was last
  set, ``reminder_sent_at`` when the client's appointment reminder went out.
* ``client_contacts``: the client's e-mail address (encrypted) and their consent to
  e-mail reminders; one row per client.
* ``reminder_rules``: at most one rule per client and kind (``appointment``,
  ``check_weekly``, ``check_after_session``); ``active_since`` is when it was turned on.
* ``outbox``: e-mails waiting to be sent, claimed by a conditional UPDATE; ``dedup_key``
  makes enqueueing idempotent (one reminder per appointment, per week …).
* ``calendar_feeds``: a therapist's iCal link; only the token's SHA-256 is stored.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from attunement.store.tables import Base, utcnow

if TYPE_CHECKING:
    from attunement.course.context import EventKind

__all__ = [
    "APPOINTMENT_OUTCOMES",
    "APPOINTMENT_STATES",
    "CANCELLED_STATES",
    "COURSE_EVENTS",
    "LEGACY_STATES",
    "OUTBOX_STATES",
    "OUTCOME_CHOICES",
    "RULE_KINDS",
    "SETTABLE_STATES",
    "STATUS_LABELS",
    "Appointment",
    "CalendarFeed",
    "ClientContact",
    "OutboxMessage",
    "ReminderRule",
]

#: what became of an appointment. The four "who" outcomes are the course engine's event
#: kinds (:data:`attunement.course.context.EventKind`) under the same names.
APPOINTMENT_OUTCOMES = (
    "attended",
    "client_no_show",  # the client did not come (no notice)
    "client_cancelled",
    "therapist_cancelled",
    "therapist_missed",  # the therapist forgot or missed it
)
#: written before outcomes said who: "cancelled" and "missed" without a who. They stay
#: readable and are shown as "who not recorded"; they are not course events (guessing
#: "client" could blame the client for a session the therapist forgot).
LEGACY_STATES = ("cancelled", "missed")
APPOINTMENT_STATES = ("scheduled", *APPOINTMENT_OUTCOMES, *LEGACY_STATES)
CANCELLED_STATES = ("client_cancelled", "therapist_cancelled", "cancelled")
#: what a clinician may set (legacy states are read, never written)
SETTABLE_STATES = ("scheduled", *APPOINTMENT_OUTCOMES)
#: wording on the pages (the status column of the appointment tables)
STATUS_LABELS = {
    "scheduled": "not marked",
    "attended": "attended",
    "client_no_show": "client did not come",
    "client_cancelled": "cancelled by the client",
    "therapist_cancelled": "cancelled by the therapist",
    "therapist_missed": "missed by the therapist",
    "cancelled": "cancelled (who was not recorded)",
    "missed": "missed (who was not recorded)",
}
#: outcomes that are course events, by status → the event kind of
#: :class:`attunement.course.context.Event` (the same names)
COURSE_EVENTS: dict[str, EventKind] = {
    "client_no_show": "client_no_show",
    "client_cancelled": "client_cancelled",
    "therapist_cancelled": "therapist_cancelled",
    "therapist_missed": "therapist_missed",
}
#: the buttons that record an outcome: (status, button text)
OUTCOME_CHOICES = (
    ("attended", "Attended"),
    ("client_no_show", "Client did not come"),
    ("client_cancelled", "Client cancelled"),
    ("therapist_cancelled", "Therapist cancelled"),
    ("therapist_missed", "Therapist missed it"),
)

RULE_KINDS = ("appointment", "check_weekly", "check_after_session")
#: queued (waiting, maybe after a failed attempt), sending (claimed), sent, failed (gave
#: up), skipped (no longer wanted when its turn came: consent withdrawn, cancelled …)
OUTBOX_STATES = ("queued", "sending", "sent", "failed", "skipped")

TS = DateTime(timezone=True)


class Appointment(Base):
    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    therapist_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[dt.datetime] = mapped_column(TS)
    minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24), default="scheduled")
    status_at: Mapped[dt.datetime] = mapped_column(TS, default=utcnow)
    note_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    reminder_sent_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(TS, default=utcnow)


class ClientContact(Base):
    __tablename__ = "client_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), unique=True
    )
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    email_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(TS, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(TS, default=utcnow)


class ReminderRule(Base):
    __tablename__ = "reminder_rules"
    __table_args__ = (UniqueConstraint("client_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    #: appointment: e-mail this many hours before each appointment
    hours_before: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: check_weekly: weekday (0 = Monday) and hour, in the clinic's time zone
    weekday: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hour: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: check reminders: which instrument the link is for
    instrument: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    active_since: Mapped[dt.datetime] = mapped_column(TS, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(TS, default=utcnow)


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    #: the appointment or rule the message is about
    related_type: Mapped[str] = mapped_column(String(24))
    related_id: Mapped[int] = mapped_column(Integer)
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    to_enc: Mapped[bytes] = mapped_column(LargeBinary)
    subject: Mapped[str] = mapped_column(String(160))  # fixed wording, no PHI
    #: cleared once sent (a check link in it is a credential until used)
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: queued: not before this time; sending: the claim expires at this time
    next_attempt_at: Mapped[dt.datetime] = mapped_column(TS, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(TS, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)


class CalendarFeed(Base):
    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(TS, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(TS, nullable=True)
