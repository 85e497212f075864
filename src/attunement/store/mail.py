"""E-mail: SMTP settings from the environment, sending with :mod:`smtplib`, and the outbox.

Settings (all optional; reminders are off while ``ATTUNEMENT_SMTP_HOST`` is unset):

=============================== ==========================================================
``ATTUNEMENT_SMTP_HOST``         the SMTP server
``ATTUNEMENT_SMTP_PORT``         default 587 with STARTTLS, 465 with SSL, else 25
``ATTUNEMENT_SMTP_USER``         sign in with this user (and the password below)
``ATTUNEMENT_SMTP_PASSWORD``     or ``ATTUNEMENT_SMTP_PASSWORD_FILE`` (first line)
``ATTUNEMENT_SMTP_FROM``         the sender address (required with a host)
``ATTUNEMENT_SMTP_STARTTLS``     ``1`` to upgrade the connection with STARTTLS
``ATTUNEMENT_SMTP_SSL``          ``1`` for implicit TLS (SMTPS)
``ATTUNEMENT_BASE_URL``          the app's public address, for check links in e-mails
``ATTUNEMENT_TIMEZONE``          the clinic's time zone (IANA name; default UTC)
=============================== ==========================================================

The outbox is sent at least once and, short of a crash between the SMTP server's "250"
and the commit after it, exactly once: a message is claimed by a conditional UPDATE
(``queued`` → ``sending``, with a lease), committed, sent, and marked ``sent`` right
after. A second thread or process cannot claim a message while its lease runs; a
message left ``sending`` by a killed process is claimed again once the lease expires.
A failed attempt records the kind of failure (exception class and SMTP code — never an
address, a server's reply text or a body) and is retried with a growing delay, until
:data:`MAX_ATTEMPTS`. Nothing here logs an address or a body.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from attunement.errors import AttunementError
from attunement.store.tables_schedule import Appointment, ClientContact, OutboxMessage

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy.orm import Session

    from attunement.store.crypto import Keyring
    from attunement.store.db import Store

log = logging.getLogger(__name__)

TO = "outbox.to"
BODY = "outbox.body"
MAX_ATTEMPTS = 6
LEASE = dt.timedelta(minutes=10)
BATCH = 50


class MailError(AttunementError):
    """Sending failed; the message names the kind of failure only."""


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class MailSettings:
    host: str | None = None
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = 20.0
    base_url: str | None = None
    timezone: str = "UTC"

    @property
    def configured(self) -> bool:
        return bool(self.host and self.sender)

    def zone(self) -> ZoneInfo:
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MailSettings:
        env = os.environ if env is None else env
        host = env.get("ATTUNEMENT_SMTP_HOST", "").strip() or None
        starttls = _flag(env, "ATTUNEMENT_SMTP_STARTTLS")
        use_ssl = _flag(env, "ATTUNEMENT_SMTP_SSL")
        if starttls and use_ssl:
            raise AttunementError("use STARTTLS or SSL, not both", where="ATTUNEMENT_SMTP_SSL")
        raw_port = env.get("ATTUNEMENT_SMTP_PORT", "").strip()
        port = 465 if use_ssl else 587 if starttls else 25
        if raw_port:
            if not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
                raise AttunementError("must be a port number", where="ATTUNEMENT_SMTP_PORT")
            port = int(raw_port)
        password = env.get("ATTUNEMENT_SMTP_PASSWORD") or None
        password_file = env.get("ATTUNEMENT_SMTP_PASSWORD_FILE", "").strip()
        if password is None and password_file:
            try:
                lines = Path(password_file).expanduser().read_text("utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                raise AttunementError(
                    "cannot read the file", where="ATTUNEMENT_SMTP_PASSWORD_FILE"
                ) from None
            password = lines[0] if lines else None
        sender = env.get("ATTUNEMENT_SMTP_FROM", "").strip() or None
        if host and not sender:
            raise AttunementError("is required with a host", where="ATTUNEMENT_SMTP_FROM")
        timezone = env.get("ATTUNEMENT_TIMEZONE", "").strip() or "UTC"
        settings = cls(
            host=host,
            port=port,
            user=env.get("ATTUNEMENT_SMTP_USER", "").strip() or None,
            password=password,
            sender=sender,
            starttls=starttls,
            ssl=use_ssl,
            base_url=(env.get("ATTUNEMENT_BASE_URL", "").strip().rstrip("/") or None),
            timezone=timezone,
        )
        try:
            settings.zone()
        except (ValueError, KeyError, OSError):
            raise AttunementError("not a known time zone", where="ATTUNEMENT_TIMEZONE") from None
        return settings


def _problem(exc: BaseException) -> str:
    """What went wrong, without the server's text (it can quote the recipient)."""
    import smtplib

    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _msg in exc.recipients.values()})
        return f"recipient refused ({', '.join(codes)})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} ({exc.smtp_code})"
    return type(exc).__name__


def send(settings: MailSettings, to: str, subject: str, body: str) -> None:
    """Send one plain-text message; raises :class:`MailError` naming the kind of problem."""
    import smtplib
    import ssl
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    assert settings.host and settings.sender, "SMTP is not configured"
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=settings.sender.rsplit("@", 1)[-1] or None)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body)
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if settings.ssl:
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.starttls:
                smtp.starttls(context=context)
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(_problem(exc), where="SMTP") from None


# --- the outbox ---------------------------------------------------------------------


def enqueue(
    db: Session,
    keys: Keyring,
    *,
    client_id: int,
    kind: str,
    related_type: str,
    related_id: int,
    dedup_key: str,
    to: str,
    subject: str,
    body: str,
    now: dt.datetime,
) -> OutboxMessage:
    row = OutboxMessage(
        client_id=client_id,
        kind=kind,
        related_type=related_type,
        related_id=related_id,
        dedup_key=dedup_key,
        to_enc=keys.encrypt_text(to, TO),
        subject=subject,
        body_enc=keys.encrypt_text(body, BODY),
        status="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    db.add(row)
    db.flush()
    return row


def existing_keys(db: Session, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    q = select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.in_(keys))
    return set(db.scalars(q).all())


def ready(db: Session, now: dt.datetime, limit: int = BATCH) -> list[int]:
    """Messages whose turn has come: queued and due, or claimed by a lease that ran out."""
    q = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status.in_(("queued", "sending")),
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return list(db.scalars(q).all())


def claim(db: Session, message_id: int, now: dt.datetime) -> bool:
    """Take a message for sending (a conditional UPDATE: one claimer wins)."""
    done = db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status.in_(("queued", "sending")),
            OutboxMessage.next_attempt_at <= now,
        )
        .values(
            status="sending",
            next_attempt_at=now + LEASE,
            attempts=OutboxMessage.attempts + 1,
        )
    )
    return getattr(done, "rowcount", 0) == 1


def _still_wanted(db: Session, row: OutboxMessage, now: dt.datetime) -> bool:
    """Consent can be withdrawn and appointments cancelled after a message was queued."""
    consent = db.scalar(
        select(ClientContact.email_consent).where(ClientContact.client_id == row.client_id)
    )
    if not consent:
        return False
    if row.kind == "appointment":
        appt = db.get(Appointment, row.related_id)
        if appt is None or appt.status != "scheduled":
            return False
        starts = appt.starts_at if appt.starts_at.tzinfo else appt.starts_at.replace(tzinfo=dt.UTC)
        return starts > now
    return True


def _finish_sent(db: Session, message_id: int, now: dt.datetime) -> None:
    db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
        .values(status="sent", sent_at=now, body_enc=None, last_error=None)
    )
    row = db.get(OutboxMessage, message_id)
    if row is not None and row.kind == "appointment":
        db.execute(
            update(Appointment).where(Appointment.id == row.related_id).values(reminder_sent_at=now)
        )


def _finish_failed(db: Session, message_id: int, problem: str, now: dt.datetime) -> str:
    row = db.get(OutboxMessage, message_id)
    assert row is not None
    give_up = row.attempts >= MAX_ATTEMPTS
    delay = dt.timedelta(minutes=min(2**row.attempts, 120))
    row.status = "failed" if give_up else "queued"
    row.next_attempt_at = now + delay
    row.last_error = problem[:120]
    db.flush()
    return row.status


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0


Sender = Callable[[MailSettings, str, str, str], None]


def send_ready(
    store: Store, settings: MailSettings, now: dt.datetime, sender: Sender = send
) -> SendReport:
    """The outbox sender step: claim, send and settle every message whose turn has come."""
    from attunement.store import audit

    report = SendReport()
    with store.tx() as db:
        ids = ready(db, now)
    for message_id in ids:
        with store.tx() as db:
            if not claim(db, message_id, now):
                continue  # another thread or process has it
            row = db.get(OutboxMessage, message_id)
            assert row is not None
            if not _still_wanted(db, row, now) or row.body_enc is None:
                row.status, row.body_enc = "skipped", None
                report.skipped += 1
                continue
            to = store.keys.decrypt_text(row.to_enc, TO)
            body = store.keys.decrypt_text(row.body_enc, BODY)
            subject = row.subject
        try:
            sender(settings, to, subject, body)
        except MailError as exc:
            with store.tx() as db:
                state = _finish_failed(db, message_id, exc.message, now)
            log.warning("outbox message %d: %s (%s)", message_id, exc.message, state)
            if state == "failed":
                report.failed += 1
            else:
                report.retrying += 1
            continue
        with store.tx() as db:
            _finish_sent(db, message_id, now)
            audit.append(
                db,
                actor_id=None,
                actor="reminders",
                action="email.send",
                object_type="outbox",
                object_id=message_id,
            )
        report.sent += 1
    return report


@dataclass
class OutboxView:
    id: int
    kind: str
    status: str
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None
    last_error: str | None


def outbox_of(db: Session, client_id: int, limit: int = 10) -> list[OutboxView]:
    """The client's latest e-mails: states only (no address, no body)."""
    rows = db.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.client_id == client_id)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    return [
        OutboxView(r.id, r.kind, r.status, r.attempts, r.created_at, r.sent_at, r.last_error)
        for r in rows
    ]
