"""Changing one's password (/account/password) and an admin's password reset: argon2id,
other sessions ended, throttled like sign-in, audited, and a temporary password that
leads to the change page before anything else."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pyotp
import pytest
from clinic_helpers import PASSWORD, add_user, csrf_of, make_app, sign_in
from fastapi.testclient import TestClient
from sqlalchemy import select

from attunement.store import repo
from attunement.store.tables import AuditEntry, LoginSession, User

NEW = "a brand new passphrase"
SECRET = re.compile(r'<code class="secret">([^<]+)</code>')


@pytest.fixture
def app(backend: str, tmp_path: Path, pipeline: Any) -> Any:
    app = make_app(backend, tmp_path / "k.key", pipeline, max_failures=3, ip_failures=50)
    yield app
    app.state.store.close()


def _change(client: TestClient, current: str, new: str, again: str | None = None) -> Any:
    token = csrf_of(client.get("/account/password").text)
    return client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": current,
            "new_password": new,
            "new_password_again": new if again is None else again,
        },
        follow_redirects=False,
    )


def _login(app: Any, username: str, password: str) -> tuple[TestClient, Any]:
    client = TestClient(app)
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return client, r


def _actions(app: Any, user_id: int) -> list[tuple[str, str]]:
    with app.state.store.tx() as db:
        rows = db.scalars(
            select(AuditEntry).where(AuditEntry.object_id == str(user_id)).order_by(AuditEntry.seq)
        )
        return [(e.action, e.outcome) for e in rows]


def _user(app: Any, name: str) -> User:
    with app.state.store.tx() as db:
        user = repo.user_by_name(db, name)
        assert user is not None
        db.expunge(user)
        return user


def test_change_password_ends_other_sessions(app: Any) -> None:
    uid = add_user(app.state.store, "alice", "therapist")
    here, elsewhere = sign_in(app, "alice"), sign_in(app, "alice")
    page = here.get("/account/password")
    assert page.status_code == 200
    assert 'for="current_password"' in page.text and 'for="new_password_again"' in page.text
    assert 'minlength="10"' in page.text and "Caseload" in page.text  # full menu

    r = _change(here, PASSWORD, "too short")
    assert r.status_code == 400 and "New password: must be at least 10 characters" in r.text
    r = _change(here, PASSWORD, NEW, NEW + "x")
    assert r.status_code == 400 and "does not match" in r.text
    r = _change(here, "not my password at all", NEW)
    assert r.status_code == 400 and "Current password: not accepted" in r.text
    r = _change(here, PASSWORD, PASSWORD)
    assert r.status_code == 400 and "must differ" in r.text
    for text in ("too short", NEW, "not my password at all"):  # errors never echo input
        assert text not in r.text
    assert elsewhere.get("/api/me").status_code == 200  # nothing changed yet

    r = _change(here, PASSWORD, NEW)
    assert r.status_code == 303 and r.headers["location"] == "/account/password?changed=1"
    assert "Your password was changed" in here.get("/account/password?changed=1").text
    assert here.get("/api/me").status_code == 200  # this browser continues, new token
    assert elsewhere.get("/api/me").status_code == 401  # every other sign-in ended
    with app.state.store.tx() as db:
        sessions = db.scalars(select(LoginSession).where(LoginSession.user_id == uid)).all()
        assert len(sessions) == 1
        user = db.get(User, uid)
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert user.failed_logins == 0 and not user.must_change_password
    assert _login(app, "alice", PASSWORD)[1].status_code == 401
    assert _login(app, "alice", NEW)[1].status_code == 303
    actions = _actions(app, uid)
    assert ("user.password_change", "denied") in actions
    assert actions.count(("user.password_change", "ok")) == 1


def test_wrong_current_password_counts_toward_lockout(app: Any) -> None:
    add_user(app.state.store, "alice", "therapist")
    client = sign_in(app, "alice")
    for _ in range(2):
        assert _change(client, "wrong wrong wrong", NEW).status_code == 400
    r = _change(client, "wrong wrong wrong", NEW)  # the third: locked (max_failures=3)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/api/me").status_code == 401  # this session is ended
    assert _login(app, "alice", PASSWORD)[1].status_code == 401  # and the account locked
    user = _user(app, "alice")
    assert user.locked_until is not None
    assert ("login.locked", "denied") in _actions(app, user.id)


def test_password_change_is_throttled_per_address(
    backend: str, tmp_path: Path, pipeline: Any
) -> None:
    app = make_app(backend, tmp_path / "k.key", pipeline, max_failures=50, ip_failures=2)
    try:
        add_user(app.state.store, "alice", "therapist")
        client = sign_in(app, "alice")
        assert _change(client, "wrong wrong wrong", NEW).status_code == 400
        assert _change(client, "wrong wrong wrong", NEW).status_code == 400
        r = _change(client, PASSWORD, NEW)  # right, but this address is throttled now
        assert r.status_code == 429 and "Too many failed attempts" in r.text
        assert _login(app, "alice", NEW)[1].status_code != 303
    finally:
        app.state.store.close()


def test_admin_reset_leads_to_the_change_page_first(app: Any) -> None:
    totp = pyotp.random_base32()
    admin_id = add_user(app.state.store, "admin", "admin", totp)
    bob_id = add_user(app.state.store, "bob", "therapist")
    bob_before = sign_in(app, "bob")
    admin = sign_in(app, "admin", totp)

    users = admin.get("/admin/users").text
    assert f'action="/admin/users/{bob_id}/reset-password"' in users
    assert f'action="/admin/users/{admin_id}/reset-password"' not in users  # not oneself
    r = admin.post(
        f"/admin/users/{bob_id}/reset-password",
        data={"csrf_token": csrf_of(users)},
        follow_redirects=False,
    )
    assert r.status_code == 200 and "Temporary password for bob" in r.text
    temporary = SECRET.findall(r.text)[-1]
    assert len(temporary) >= 10
    assert temporary not in admin.get("/admin/users").text  # shown once
    assert "must choose a new password" in admin.get("/admin/users").text
    assert bob_before.get("/api/me").status_code == 401  # bob's sign-ins were ended
    assert _login(app, "bob", PASSWORD)[1].status_code == 401  # old password is gone

    bob, r = _login(app, "bob", temporary)
    assert r.status_code == 303 and r.headers["location"] == "/account/password"
    # nothing else opens: every page leads back to the change page
    r = bob.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = bob.get("/login", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account/password"
    assert bob.get("/api/me").status_code == 401
    assert bob.get("/account", follow_redirects=False).status_code == 303
    page = bob.get("/account/password").text
    assert "Choose your own password" in page and "Temporary password" in page
    assert "Caseload" not in page and "safety alert" not in page  # no menu, no counts

    assert _change(bob, temporary, temporary).status_code == 400  # must differ
    r = _change(bob, temporary, NEW)
    assert r.status_code == 303
    assert bob.get("/", follow_redirects=False).status_code == 200  # the caseload now
    assert not _user(app, "bob").must_change_password
    assert _login(app, "bob", temporary)[1].status_code == 401  # one time only
    assert _login(app, "bob", NEW)[1].status_code == 303
    actions = _actions(app, bob_id)
    assert ("user.password_reset", "ok") in actions
    assert ("login.temporary_password", "ok") in actions
    assert ("user.password_change", "ok") in actions

    # an admin cannot reset their own password here (the account page is for that)
    r = admin.post(
        f"/admin/users/{admin_id}/reset-password",
        data={"csrf_token": csrf_of(admin.get("/admin/users").text)},
        follow_redirects=False,
    )
    assert r.status_code == 400 and "cannot reset" in r.text
    assert ("user.password_reset", "denied") in _actions(app, admin_id)


def test_reset_with_two_factor_asks_the_code_then_the_change(app: Any) -> None:
    first, second = pyotp.random_base32(), pyotp.random_base32()
    add_user(app.state.store, "admin", "admin", first)
    other_id = add_user(app.state.store, "root", "admin", second)
    admin = sign_in(app, "admin", first)
    r = admin.post(
        f"/admin/users/{other_id}/reset-password",
        data={"csrf_token": csrf_of(admin.get("/admin/users").text)},
    )
    temporary = SECRET.findall(r.text)[-1]
    root, r = _login(app, "root", temporary)
    assert r.headers["location"] == "/login/totp"  # the second factor still comes first
    token = csrf_of(root.get("/login/totp").text)
    gen = pyotp.TOTP(second)
    code = gen.generate_otp(gen.timecode(dt.datetime.now(dt.UTC)))
    r = root.post("/login/totp", data={"code": code, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account/password"
    assert root.get("/admin/users", follow_redirects=False).status_code == 303
    # signing out instead of choosing works from the change page too
    token = csrf_of(root.get("/account/password").text)
    r = root.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert root.get("/account/password", follow_redirects=False).headers["location"] == "/login"
    assert _user(app, "root").must_change_password  # still to be changed next time
