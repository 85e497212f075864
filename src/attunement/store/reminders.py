"""Reminders: which e-mails are due (a pure function of the time, the rules and the
appointments), queueing them in the outbox, and the loop that does both every minute.

Three kinds of rule, at most one of each per client, and only for a client with an
e-mail address and consent to e-mail reminders:

* ``appointment`` — "your appointment is on …", ``hours_before`` each scheduled
  appointment (or at once, when the appointment is made later than that);
* ``check_weekly`` — a check link every week on ``weekday`` at ``hour`` (clinic time),
  sent within a day of that moment;
* ``check_after_session`` — a check link once an appointment marked *attended* has
  ended (within two days of its end, for appointments ending after the rule was
  turned on).

Each reminder has a key (``appt:<id>``, ``after:<id>``, ``weekly:<rule>:<ISO week>``) that
is unique in the outbox, so it is queued once however often :func:`due_reminders` runs.
Check-link reminders create a real single-use link (:func:`attunement.store.checks.
create_link`) and put its URL in the body; appointment reminders give the date, time and
clinic name and nothing clinical. :class:`Reminders` ``.tick(now)`` does one round
(tests call it with fixed times); ``start()`` runs it every minute in a thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from attunement.store import mail
from attunement.store.tables import Client, aware, utcnow
from attunement.store.tables_schedule import Appointment, OutboxMessage, ReminderRule

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy.orm import Session

    from attunement.store.db import Store

log = logging.getLogger(__name__)

WEEKLY_WINDOW = dt.timedelta(days=1)
AFTER_WINDOW = dt.timedelta(days=2)
LOOKAHEAD = dt.timedelta(days=8)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Rule:
    id: int
    client_id: int
    kind: str
    active_since: dt.datetime
    hours_before: int | None = None
    weekday: int | None = None
    hour: int | None = None
    instrument: str | None = None


@dataclass(frozen=True)
class Slot:
    """What the computation needs of an appointment."""

    id: int
    client_id: int
    starts_at: dt.datetime
    minutes: int
    status: str

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class Due:
    key: str
    kind: str
    client_id: int
    rule_id: int
    instrument: str | None = None
    appointment: Slot | None = None


def _weekly_moments(rule: Rule, now: dt.datetime, tz: ZoneInfo) -> list[dt.datetime]:
    """This week's and last week's send moments (UTC) of a weekly rule."""
    assert rule.weekday is not None and rule.hour is not None
    local = now.astimezone(tz).date()
    monday = local - dt.timedelta(days=local.weekday())
    out = []
    for back in (7, 0):
        day = monday - dt.timedelta(days=back) + dt.timedelta(days=rule.weekday)
        moment = dt.datetime.combine(day, dt.time(rule.hour), tzinfo=tz)
        out.append(moment.astimezone(dt.UTC))
    return out


def due_reminders(
    now: dt.datetime,
    rules: Iterable[Rule],
    appointments: Iterable[Slot],
    *,
    tz: ZoneInfo,
    reachable: Collection[int],
    done: Collection[str] = (),
) -> list[Due]:
    """The reminders due at ``now`` and not in ``done`` (keys already queued), for the
    clients in ``reachable`` (an address and consent). Pure: no database, no clock."""
    by_client: dict[int, list[Slot]] = {}
    for a in appointments:
        by_client.setdefault(a.client_id, []).append(a)
    out: list[Due] = []
    for rule in rules:
        if rule.client_id not in reachable:
            continue
        if rule.kind == "appointment" and rule.hours_before is not None:
            lead = dt.timedelta(hours=rule.hours_before)
            for a in by_client.get(rule.client_id, []):
                if a.status == "scheduled" and a.starts_at - lead <= now < a.starts_at:
                    out.append(Due(f"appt:{a.id}", rule.kind, a.client_id, rule.id, None, a))
        elif rule.kind == "check_after_session":
            for a in by_client.get(rule.client_id, []):
                ended = a.ends_at <= now < a.ends_at + AFTER_WINDOW
                if a.status == "attended" and ended and a.ends_at >= rule.active_since:
                    key = f"after:{a.id}"
                    out.append(Due(key, rule.kind, a.client_id, rule.id, rule.instrument, a))
        elif rule.kind == "check_weekly" and rule.weekday is not None and rule.hour is not None:
            for moment in _weekly_moments(rule, now, tz):
                if moment <= now < moment + WEEKLY_WINDOW and moment >= rule.active_since:
                    year, week, _ = moment.astimezone(tz).isocalendar()
                    key = f"weekly:{rule.id}:{year}-W{week:02d}"
                    out.append(Due(key, rule.kind, rule.client_id, rule.id, rule.instrument))
    return [d for d in out if d.key not in done]


# --- the database side --------------------------------------------------------------


def _load(db: Session, now: dt.datetime) -> tuple[list[Rule], list[Slot]]:
    rows = db.scalars(select(ReminderRule).where(ReminderRule.active.is_(True))).all()
    rules = [
        Rule(
            r.id,
            r.client_id,
            r.kind,
            aware(r.active_since),
            r.hours_before,
            r.weekday,
            r.hour,
            r.instrument,
        )
        for r in rows
    ]
    clients = sorted({r.client_id for r in rules})
    if not clients:
        return rules, []
    q = select(Appointment).where(
        Appointment.client_id.in_(clients),
        Appointment.starts_at >= now - LOOKAHEAD,
        Appointment.starts_at <= now + LOOKAHEAD,
    )
    slots = [
        Slot(a.id, a.client_id, aware(a.starts_at), a.minutes, a.status)
        for a in db.scalars(q).all()
    ]
    return rules, slots


def _session_number(db: Session, client_id: int, until: dt.datetime) -> int:
    """Attended appointments up to ``until``: the session a check link follows."""
    q = (
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.client_id == client_id,
            Appointment.status == "attended",
            Appointment.starts_at <= until,
        )
    )
    return int(db.scalar(q) or 0)


def appointment_text(clinic: str, slot: Slot, tz: ZoneInfo) -> tuple[str, str]:
    local = slot.starts_at.astimezone(tz)
    when = f"{DAYS[local.weekday()]} {local.day} {local:%B %Y} at {local:%H:%M}"
    subject = f"Appointment reminder from {clinic}"
    body = (
        f"Hello,\n\nthis is a reminder of your appointment at {clinic} on {when} "
        f"({tz.key}), for {slot.minutes} minutes.\n\n"
        "If you cannot come, please let us know.\n\n"
        f"{clinic}\n\n(This message was sent automatically.)\n"
    )
    return subject, body


def check_text(clinic: str, url: str, hours: int) -> tuple[str, str]:
    subject = f"A short questionnaire from {clinic}"
    body = (
        f"Hello,\n\n{clinic} asks you to answer a short questionnaire about how things "
        f"are going. It takes a few minutes:\n\n{url}\n\n"
        f"The link works once and stays open for {hours} hours. Only your therapist sees "
        f"your answers.\n\n{clinic}\n\n(This message was sent automatically.)\n"
    )
    return subject, body


def enqueue_due(db: Session, store: Store, settings: mail.MailSettings, now: dt.datetime) -> int:
    """Queue every due reminder (idempotent: keys already in the outbox are left out)."""
    from sqlalchemy.exc import IntegrityError

    from attunement.store import audit, repo, schedule

    rules, slots = _load(db, now)
    if not rules:
        return 0
    emails = schedule.contacts_of(db, store.keys, {r.client_id for r in rules})
    tz = settings.zone()
    due = due_reminders(now, rules, slots, tz=tz, reachable=set(emails))
    done = mail.existing_keys(db, [d.key for d in due])
    clinic = repo.clinic_settings(db).name
    queued = 0
    for d in due:
        if d.key in done:
            continue
        if d.kind != "appointment" and not settings.base_url:
            log.warning("reminders: check-link reminders need ATTUNEMENT_BASE_URL")
            continue
        try:
            with db.begin_nested():
                row = _enqueue_one(db, store, settings, d, emails[d.client_id], clinic, now)
        except IntegrityError:  # another process queued the same key first
            continue
        audit.append(
            db,
            actor_id=None,
            actor="reminders",
            action="email.queue",
            object_type="outbox",
            object_id=row.id,
        )
        if d.kind != "appointment":
            audit.append(
                db,
                actor_id=None,
                actor="reminders",
                action="check_link.create",
                object_type="check_link",
                object_id=row.related_id,
            )
        queued += 1
    return queued


def _enqueue_one(
    db: Session,
    store: Store,
    settings: mail.MailSettings,
    d: Due,
    to: str,
    clinic: str,
    now: dt.datetime,
) -> OutboxMessage:
    from attunement.store import checks

    tz = settings.zone()
    if d.kind == "appointment":
        assert d.appointment is not None
        subject, body = appointment_text(clinic, d.appointment, tz)
        related_type, related_id = "appointment", d.appointment.id
    else:
        assert d.instrument is not None and settings.base_url
        owner = db.scalar(select(Client.therapist_id).where(Client.id == d.client_id))
        assert owner is not None
        until = d.appointment.starts_at if d.appointment else now
        token, link = checks.create_link(
            db,
            client_id=d.client_id,
            created_by=owner,
            instrument=d.instrument,
            session_number=_session_number(db, d.client_id, until),
        )
        subject, body = check_text(
            clinic, f"{settings.base_url}/check/{token}", checks.DEFAULT_HOURS
        )
        related_type, related_id = "check_link", link.id
    return mail.enqueue(
        db,
        store.keys,
        client_id=d.client_id,
        kind=d.kind,
        related_type=related_type,
        related_id=related_id,
        dedup_key=d.key,
        to=to,
        subject=subject,
        body=body,
        now=now,
    )


@dataclass
class TickReport:
    queued: int
    sent: int
    retrying: int
    failed: int
    skipped: int


class Reminders:
    """``tick(now)`` queues what is due and sends what is ready; ``start()`` runs it
    every ``interval`` seconds in a daemon thread until ``stop()``."""

    def __init__(
        self,
        store: Store,
        settings: mail.MailSettings,
        *,
        sender: mail.Sender = mail.send,
        interval: float = 60.0,
    ) -> None:
        self.store = store
        self.settings = settings
        self.sender = sender
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, now: dt.datetime | None = None) -> TickReport:
        now = now or utcnow()
        with self.store.tx() as db:
            queued = enqueue_due(db, self.store, self.settings, now)
        sent = mail.send_ready(self.store, self.settings, now, self.sender)
        return TickReport(queued, sent.sent, sent.retrying, sent.failed, sent.skipped)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="attunement-reminders", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # database briefly unavailable: try again next round
                log.error("reminders: %s", type(exc).__name__)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def start_reminders(store: Store) -> Reminders | None:
    """Start the reminder loop when SMTP is configured (``ATTUNEMENT_SMTP_HOST``)."""
    settings = mail.MailSettings.from_env()
    if not settings.configured:
        log.info("reminders: off (ATTUNEMENT_SMTP_HOST is not set)")
        return None
    loop = Reminders(store, settings)
    loop.start()
    return loop
