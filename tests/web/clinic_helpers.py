"""Helpers for the clinic app tests: users, sign-in through the real forms, a small
clinic ("world") with objects owned by different users."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from attunement.store import checks, repo
from attunement.store.db import Store
from attunement.web import security
from attunement.web.app import create_app
from attunement.web.settings import Settings

PASSWORD = "a long test password"
TRANSCRIPT = (
    "Therapist: How have things been this week?\n"
    "Client: Fine I guess. Whatever.\n"
    "Therapist: You sound a bit flat today, can you say more?\n"
    "Client: I don't know, this isn't helping. You never listen to me.\n"
    "Therapist: It sounds like I missed something important. Tell me what felt off.\n"
    "Client: Yeah, ok. Thanks for asking.\n"
)


def make_store(url: str, key_file: Path) -> Store:
    return Store.open(url, key_file)


def make_app(url: str, key_file: Path, pipeline: Any, **settings: Any) -> Any:
    s = Settings(database_url=url, key_file=key_file, model="fast", start_worker=False, **settings)
    return create_app(s, pipeline=pipeline)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "page has no CSRF field"
    return m.group(1)


def add_user(store: Store, username: str, role: str, totp: str | None = None) -> int:
    with store.tx() as db:
        user = repo.create_user(
            db,
            username,
            role,
            security.hash_password(PASSWORD),
            store.keys.encrypt_text(totp, "users.totp_secret") if totp else None,
        )
        return user.id


def sign_in(
    app: Any, username: str, totp: str | None = None, base_url: str = "http://testserver"
) -> TestClient:
    """A TestClient signed in as ``username`` (through the real forms)."""
    import pyotp

    client = TestClient(app, base_url=base_url)
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.status_code
    if totp:
        assert r.headers["location"] == "/login/totp"
        token = csrf_of(client.get("/login/totp").text)
        gen = pyotp.TOTP(totp)
        now = gen.timecode(dt.datetime.now(dt.UTC))
        for step in (now, now + 1):  # a code works once: after a recent sign-in, the next
            r = client.post(
                "/login/totp",
                data={"code": gen.generate_otp(step), "csrf_token": token},
                follow_redirects=False,
            )
            if r.status_code == 303:
                break
        assert r.status_code == 303 and r.headers["location"] == "/"
    return client


def page_csrf(client: TestClient) -> str:
    return str(client.get("/api/me").json()["csrf_token"])


@dataclass
class World:
    """A small clinic: two therapists, a trainee with a supervisor, an idle supervisor,
    an admin; a client (with an analyzed session and a PHQ-9 answer that raised a safety
    alert) for alice, bob and the trainee."""

    app: Any
    store: Store
    admin_totp: str
    users: dict[str, int] = field(default_factory=dict)
    clients: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    appointments: dict[str, int] = field(default_factory=dict)
    members: dict[str, int] = field(default_factory=dict)  # see member_of()
    browsers: dict[str, TestClient] = field(default_factory=dict)

    def browser(self, name: str) -> TestClient:
        if name not in self.browsers:
            totp = self.admin_totp if name == "admin" else None
            self.browsers[name] = sign_in(self.app, name, totp)
        return self.browsers[name]


def member_of(world: World, owner: str) -> int:
    """A person in ``owner``'s client's case, made on first use (so the world's clients
    stay individual cases unless a test asks for one)."""
    if owner not in world.members:
        from attunement.store import cases

        with world.store.tx() as db:
            member = cases.add_member(
                db, world.store.keys, client_id=world.clients[owner], label="Member", role="member"
            )
        world.members[owner] = member.id
    return world.members[owner]


def build_world(url: str, key_file: Path, pipeline: Any) -> World:
    import pyotp

    app = make_app(url, key_file, pipeline)
    store: Store = app.state.store
    totp = pyotp.random_base32()
    w = World(app=app, store=store, admin_totp=totp)
    w.users["admin"] = add_user(store, "admin", "admin", totp)
    for name, role in (
        ("alice", "therapist"),
        ("bob", "therapist"),
        ("tess", "trainee"),
        ("sam", "supervisor"),
        ("sue", "supervisor"),
    ):
        w.users[name] = add_user(store, name, role)
    with store.tx() as db:
        sam = repo.user_by_name(db, "sam")
        tess = repo.user_by_name(db, "tess")
        assert sam and tess
        repo.assign_trainee(db, sam, tess)
        for owner in ("alice", "bob", "tess"):
            c = repo.create_client(
                db, store.keys, therapist_id=w.users[owner], pseudonym=f"Client of {owner}"
            )
            w.clients[owner] = c.id
            sid, jid = repo.add_session(
                db,
                store.keys,
                client_id=c.id,
                uploaded_by=w.users[owner],
                filename="session.txt",
                data=TRANSCRIPT.encode(),
                number=1,
            )
            w.sessions[owner], w.jobs[owner] = sid, jid
            _rid, alerts = checks.add_response(
                db,
                store.keys,
                client_id=c.id,
                instrument=checks.instruments()["phq9"],
                session_number=1,
                date=dt.date(2026, 3, 2),
                answers={f"phq9_{i}": 1.0 for i in range(1, 10)},
            )
            w.alerts[owner] = alerts[0].id
            from attunement.store import schedule

            appt = schedule.create_appointment(  # a week ahead: not one needing attention
                db,
                store.keys,
                client_id=c.id,
                starts_at=dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=7),
                minutes=50,
                now=dt.datetime.now(dt.UTC),
            )
            w.appointments[owner] = appt.id
    assert app.state.worker.drain() == 3
    return w
