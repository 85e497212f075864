"""Reminders through a real SMTP server (``aiosmtpd`` on a free loopback port): the
e-mail arrives for the right recipient with the check link, exactly once across ticks
and across two senders racing; a failing server leaves the message queued with an error
that quotes nothing, and it is sent on a later attempt. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import email
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

pytest.importorskip("aiosmtpd")

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from attunement.store import audit, checks, mail, repo, schedule
from attunement.store.db import Store
from attunement.store.reminders import Reminders, start_reminders
from attunement.store.tables import AuditEntry
from attunement.store.tables_schedule import Appointment, OutboxMessage

ADDRESS = "maple.client@example.org"
BASE = "https://clinic.example.org"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """An aiosmtpd handler that keeps what it receives (or refuses recipients)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []
        self.refuse: str | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse:
            return self.refuse.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


@dataclass
class Server:
    inbox: Inbox
    port: int
    settings: mail.MailSettings


def _start(inbox: Inbox, port: int, **kw: Any) -> Controller:
    ctrl = Controller(inbox, hostname="127.0.0.1", port=port, **kw)
    ctrl.start()
    return ctrl


@pytest.fixture
def smtp() -> Iterator[Server]:
    inbox, port = Inbox(), free_port()
    ctrl = _start(inbox, port)
    settings = mail.MailSettings(
        host="127.0.0.1", port=port, sender="clinic@example.org", base_url=BASE, timeout=10
    )
    yield Server(inbox, port, settings)
    ctrl.stop()


@pytest.fixture
def store(backend: str, tmp_path: Path) -> Iterator[Store]:
    s = Store.open(backend, tmp_path / "k.key")
    yield s
    s.close()


NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _clinic(store: Store, consent: bool = True) -> int:
    """A therapist and a consenting client with an appointment reminder (24 h) and a
    check link after each attended session; returns the client id."""
    with store.tx() as db:
        repo.clinic_settings(db).name = "Harbor Clinic"
        user = repo.create_user(db, "dana", "therapist", "x")
        c = repo.create_client(db, store.keys, therapist_id=user.id, pseudonym="Maple Pseudonym")
        schedule.set_contact(db, store.keys, c.id, email=ADDRESS, consent=consent, now=NOW)
        before = NOW - dt.timedelta(days=1)
        schedule.set_rule(db, c.id, "appointment", active=True, now=before, hours_before=24)
        schedule.set_rule(
            db, c.id, "check_after_session", active=True, now=before, instrument="alliance_check"
        )
        return c.id


def _appointment(store: Store, client: int, start: dt.datetime, status: str = "") -> int:
    with store.tx() as db:
        a = schedule.create_appointment(
            db, store.keys, client_id=client, starts_at=start, minutes=50, now=NOW
        )
        if status:
            schedule.set_status(db, a.id, status, NOW)
        return a.id


def _body(msg: Message) -> str:
    payload = msg.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


def test_appointment_reminder_sent_once(store: Store, smtp: Server) -> None:
    client = _clinic(store)
    appt = _appointment(store, client, NOW + dt.timedelta(hours=10))
    loop = Reminders(store, smtp.settings)
    first = loop.tick(NOW)
    assert (first.queued, first.sent) == (1, 1)
    second = loop.tick(NOW + dt.timedelta(minutes=1))
    assert (second.queued, second.sent) == (0, 0)
    assert len(smtp.inbox.messages) == 1
    sender, rcpts, msg = smtp.inbox.messages[0]
    assert sender == "clinic@example.org" and rcpts == [ADDRESS] and msg["To"] == ADDRESS
    assert msg["Subject"] == "Appointment reminder from Harbor Clinic"
    body = _body(msg)
    local = (NOW + dt.timedelta(hours=10)).strftime("%H:%M")
    assert "Harbor Clinic" in body and local in body and "50 minutes" in body
    assert "Maple" not in body and "Maple" not in str(msg)  # nothing clinical, no name
    with store.tx() as db:
        row = db.scalars(sa.select(OutboxMessage)).one()
        assert row.status == "sent" and row.attempts == 1 and row.body_enc is None
        assert ADDRESS.encode() not in row.to_enc
        sent_at = db.scalar(sa.select(Appointment.reminder_sent_at).where(Appointment.id == appt))
        assert sent_at is not None  # the appointment keeps when its reminder went out
        actions = {(e.actor, e.action) for e in db.scalars(sa.select(AuditEntry))}
        assert {("reminders", "email.queue"), ("reminders", "email.send")} <= actions
        assert audit.verify(db).ok


def test_check_link_after_an_attended_session(store: Store, smtp: Server) -> None:
    client = _clinic(store)
    _appointment(store, client, NOW - dt.timedelta(hours=2), status="attended")
    loop = Reminders(store, smtp.settings)
    assert loop.tick(NOW).sent == 1
    assert loop.tick(NOW + dt.timedelta(minutes=1)).sent == 0
    assert loop.tick(NOW + dt.timedelta(hours=3)).queued == 0  # still one per session
    [(_f, rcpts, msg)] = smtp.inbox.messages
    assert rcpts == [ADDRESS]
    found = re.search(re.escape(BASE) + r"/check/([A-Za-z0-9_-]{40,})", _body(msg))
    assert found, "the e-mail carries the check link"
    with store.tx() as db:
        link = checks.open_link(db, found.group(1))  # a real, open, single-use link
        assert link is not None and link.client_id == client
        assert link.instrument == "alliance_check" and link.session_number == 1
        actions = [e.action for e in db.scalars(sa.select(AuditEntry))]
        assert "check_link.create" in actions


def test_two_senders_racing_send_each_message_once(store: Store, smtp: Server) -> None:
    client = _clinic(store)
    with store.tx() as db:
        for i in range(6):
            mail.enqueue(
                db,
                store.keys,
                client_id=client,
                kind="check_weekly",
                related_type="rule",
                related_id=1,
                dedup_key=f"race:{i}",
                to=ADDRESS,
                subject=f"n{i}",
                body="hello",
                now=NOW,
            )

    def slow_send(s: mail.MailSettings, to: str, subject: str, body: str) -> None:
        threading.Event().wait(0.05)  # widen the window between claim and mark
        mail.send(s, to, subject, body)

    barrier = threading.Barrier(2)
    reports: list[mail.SendReport] = []

    def run() -> None:
        barrier.wait()
        reports.append(mail.send_ready(store, smtp.settings, NOW, slow_send))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    subjects = sorted(str(m["Subject"]) for _f, _r, m in smtp.inbox.messages)
    assert subjects == [f"n{i}" for i in range(6)]  # every message, none twice
    assert sum(r.sent for r in reports) == 6


def test_failing_server_retries_later_without_quoting(store: Store, smtp: Server) -> None:
    client = _clinic(store)
    _appointment(store, client, NOW + dt.timedelta(hours=10))
    dead = replace(smtp.settings, port=free_port())  # nothing listens there
    report = Reminders(store, dead).tick(NOW)
    assert (report.queued, report.sent, report.retrying) == (1, 0, 1)
    with store.tx() as db:
        row = db.scalars(sa.select(OutboxMessage)).one()
        assert row.status == "queued" and row.attempts == 1
        assert row.last_error == "ConnectionRefusedError"
        assert schedule.aware(row.next_attempt_at) > NOW + dt.timedelta(minutes=1)
    assert Reminders(store, dead).tick(NOW + dt.timedelta(minutes=1)).retrying == 0  # waits
    later = Reminders(store, smtp.settings).tick(NOW + dt.timedelta(minutes=3))
    assert later.sent == 1 and len(smtp.inbox.messages) == 1
    with store.tx() as db:
        row = db.scalars(sa.select(OutboxMessage)).one()
        assert row.status == "sent" and row.attempts == 2 and row.last_error is None


def test_refused_recipient_gives_up_after_the_last_attempt(store: Store, smtp: Server) -> None:
    client = _clinic(store)
    _appointment(store, client, NOW + dt.timedelta(hours=20))
    smtp.inbox.refuse = "550 5.1.1 <{address}>: mailbox unavailable"
    loop = Reminders(store, smtp.settings)
    when = NOW
    for attempt in range(1, mail.MAX_ATTEMPTS + 1):
        report = loop.tick(when)
        assert report.sent == 0
        with store.tx() as db:
            row = db.scalars(sa.select(OutboxMessage)).one()
        assert row.attempts == attempt
        assert row.last_error == "recipient refused (550)"  # no address, no server text
        when = schedule.aware(row.next_attempt_at)
    assert row.status == "failed"
    assert loop.tick(when + dt.timedelta(hours=1)).sent == 0
    assert smtp.inbox.messages == []


def test_nothing_sent_after_consent_is_withdrawn_or_the_appointment_cancelled(
    store: Store, smtp: Server
) -> None:
    client = _clinic(store)
    first = _appointment(store, client, NOW + dt.timedelta(hours=10))
    _appointment(store, client, NOW + dt.timedelta(hours=12))
    dead = replace(smtp.settings, port=free_port())
    assert Reminders(store, dead).tick(NOW).queued == 2  # queued, not yet delivered
    with store.tx() as db:
        schedule.set_status(db, first, "client_cancelled", NOW)
    later = NOW + dt.timedelta(minutes=5)
    report = Reminders(store, smtp.settings).tick(later)
    assert (report.sent, report.skipped) == (1, 1)
    assert len(smtp.inbox.messages) == 1  # the cancelled one was not sent
    _appointment(store, client, NOW + dt.timedelta(hours=14))
    with store.tx() as db:
        schedule.set_contact(db, store.keys, client, email=ADDRESS, consent=False, now=NOW)
    report = Reminders(store, smtp.settings).tick(later + dt.timedelta(minutes=5))
    assert (
        report.queued == 0 and report.sent == 0 and len(smtp.inbox.messages) == 1
    )  # no consent: not queued
    with store.tx() as db:
        states = sorted(db.scalars(sa.select(OutboxMessage.status)).all())
    assert states == ["sent", "skipped"]


def test_no_base_url_no_check_links(store: Store, smtp: Server) -> None:
    client = _clinic(store)
    _appointment(store, client, NOW - dt.timedelta(hours=2), status="attended")
    report = Reminders(store, replace(smtp.settings, base_url=None)).tick(NOW)
    assert report.queued == 0 and smtp.inbox.messages == []


def test_smtp_login() -> None:
    inbox, port = Inbox(), free_port()
    seen: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        assert isinstance(data, LoginPassword)
        seen.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret pass")

    ctrl = _start(
        inbox, port, authenticator=authenticator, auth_require_tls=False, auth_required=True
    )
    try:
        base = mail.MailSettings(host="127.0.0.1", port=port, sender="c@example.org", user="u")
        mail.send(replace(base, password="s3cret pass"), ADDRESS, "Hello", "Body text")
        assert len(inbox.messages) == 1 and seen[-1] == (b"u", b"s3cret pass")
        with pytest.raises(mail.MailError) as err:
            mail.send(replace(base, password="wrong"), ADDRESS, "Hello", "Body text")
        # smtplib tries the next mechanism after a 535; aiosmtpd may hang up instead
        assert str(err.value) in (
            "SMTP: SMTPAuthenticationError (535)",
            "SMTP: SMTPServerDisconnected",
        )
        assert len(inbox.messages) == 1
    finally:
        ctrl.stop()


def test_settings_from_environment(tmp_path: Path) -> None:
    off = mail.MailSettings.from_env({})
    assert not off.configured and off.timezone == "UTC"
    secret = tmp_path / "pw"
    secret.write_text("from a file\n")
    on = mail.MailSettings.from_env(
        {
            "ATTUNEMENT_SMTP_HOST": "smtp.example.org",
            "ATTUNEMENT_SMTP_FROM": "clinic@example.org",
            "ATTUNEMENT_SMTP_STARTTLS": "1",
            "ATTUNEMENT_SMTP_USER": "clinic",
            "ATTUNEMENT_SMTP_PASSWORD_FILE": str(secret),
            "ATTUNEMENT_BASE_URL": "https://clinic.example.org/",
            "ATTUNEMENT_TIMEZONE": "Europe/Berlin",
        }
    )
    assert on.configured and on.port == 587 and on.starttls and not on.ssl
    assert on.password == "from a file" and "from a file" not in repr(on)
    assert on.base_url == "https://clinic.example.org" and on.zone().key == "Europe/Berlin"
    ssl_on = mail.MailSettings.from_env(
        {"ATTUNEMENT_SMTP_HOST": "h", "ATTUNEMENT_SMTP_FROM": "a@b.org", "ATTUNEMENT_SMTP_SSL": "1"}
    )
    assert ssl_on.port == 465
    for env, where in (
        ({"ATTUNEMENT_SMTP_HOST": "h"}, "ATTUNEMENT_SMTP_FROM"),
        ({"ATTUNEMENT_SMTP_PORT": "smtp"}, "ATTUNEMENT_SMTP_PORT"),
        ({"ATTUNEMENT_SMTP_SSL": "1", "ATTUNEMENT_SMTP_STARTTLS": "1"}, "ATTUNEMENT_SMTP_SSL"),
        ({"ATTUNEMENT_TIMEZONE": "Mars/Olympus"}, "ATTUNEMENT_TIMEZONE"),
    ):
        with pytest.raises(mail.AttunementError) as err:
            mail.MailSettings.from_env(env)
        assert err.value.where == where


def test_loop_starts_only_with_smtp(
    store: Store, smtp: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ATTUNEMENT_SMTP_HOST", raising=False)
    assert start_reminders(store) is None
    monkeypatch.setenv("ATTUNEMENT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ATTUNEMENT_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("ATTUNEMENT_SMTP_FROM", "clinic@example.org")
    client = _clinic(store)
    _appointment(store, client, NOW + dt.timedelta(hours=10))
    loop = start_reminders(store)
    assert loop is not None
    try:
        for _ in range(100):  # the thread's first round runs at once
            if smtp.inbox.messages:
                break
            threading.Event().wait(0.1)
    finally:
        loop.stop()
    assert [r for _f, r, _m in smtp.inbox.messages] == [[ADDRESS]]


def test_cli_remind_once(
    backend: str, tmp_path: Path, smtp: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from attunement.cli.main import main

    key = tmp_path / "k.key"
    store = Store.open(backend, key)
    try:
        client = _clinic(store)
        _appointment(store, client, NOW + dt.timedelta(hours=10))
    finally:
        store.close()
    args = ["remind", "--once", "--database-url", backend, "--key-file", str(key)]
    monkeypatch.delenv("ATTUNEMENT_SMTP_HOST", raising=False)
    assert main(args) == 2  # e-mail off: a one-line error
    monkeypatch.setenv("ATTUNEMENT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ATTUNEMENT_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("ATTUNEMENT_SMTP_FROM", "clinic@example.org")
    assert main(args) == 0
    assert main(args) == 0
    assert [r for _f, r, _m in smtp.inbox.messages] == [[ADDRESS]]  # once, over two runs
