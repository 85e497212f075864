"""Sign-in and session security: argon2id, TOTP (required for admins), lock-out and
throttling, cookie flags, idle timeout, security headers, no input echoed in errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyotp
import pytest
from clinic_helpers import PASSWORD, add_user, csrf_of, make_app, page_csrf, sign_in
from fastapi.testclient import TestClient

from attunement.store import repo
from attunement.store.tables import LoginSession, User
from attunement.web import security


@pytest.fixture
def app(backend: str, tmp_path: Path, pipeline: Any) -> Any:
    app = make_app(backend, tmp_path / "k.key", pipeline, max_failures=3, ip_failures=50)
    yield app
    app.state.store.close()


def _post_login(client: TestClient, username: str, password: str) -> Any:
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def test_passwords_are_argon2id() -> None:
    stored = security.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert security.verify_password(stored, "correct horse battery")
    assert not security.verify_password(stored, "wrong horse battery")
    assert not security.verify_password(None, "anything at all")
    assert security.password_problem("short") is not None


def test_wrong_password_then_lockout(app: Any) -> None:
    add_user(app.state.store, "alice", "therapist")
    client = TestClient(app)
    for _ in range(3):
        r = _post_login(client, "alice", "not the password")
        assert r.status_code == 401 and "Sign-in failed" in r.text
    r = _post_login(client, "alice", PASSWORD)  # right password, but locked now
    assert r.status_code == 401
    with app.state.store.tx() as db:
        user = repo.user_by_name(db, "alice")
        assert user is not None and user.locked_until is not None
        user.locked_until = user.locked_until - dt.timedelta(hours=1)  # lock expires
    assert _post_login(client, "alice", PASSWORD).status_code == 303
    # unknown users get the same answer as wrong passwords
    r = _post_login(client, "nobody", PASSWORD)
    assert r.status_code == 401 and "Sign-in failed" in r.text


def test_throttle_per_address(backend: str, tmp_path: Path, pipeline: Any) -> None:
    app = make_app(backend, tmp_path / "k.key", pipeline, ip_failures=4)
    client = TestClient(app)
    codes = [_post_login(client, f"user{i}", "x" * 12).status_code for i in range(6)]
    assert codes == [401] * 4 + [429] * 2
    app.state.store.close()


def test_admin_needs_totp(app: Any) -> None:
    secret = pyotp.random_base32()
    add_user(app.state.store, "root", "admin", secret)
    client = TestClient(app)
    r = _post_login(client, "root", PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/login/totp"
    half = r.cookies.get("attunement_session") or client.cookies.get("attunement_session")
    assert client.get("/admin/users", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/me").status_code == 401  # half signed in is not signed in
    token = csrf_of(client.get("/login/totp").text)
    r = client.post("/login/totp", data={"code": "000000", "csrf_token": token})
    assert "Code not accepted" in r.text
    r = client.post(
        "/login/totp",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert client.cookies.get("attunement_session") != half  # new token after 2nd factor
    assert client.get("/admin/users").status_code == 200


def test_admin_without_totp_cannot_sign_in(app: Any) -> None:
    add_user(app.state.store, "root", "admin")
    r = _post_login(TestClient(app), "root", PASSWORD)
    assert r.status_code == 401


def test_therapist_enrols_totp(app: Any) -> None:
    add_user(app.state.store, "alice", "therapist")
    client = sign_in(app, "alice")
    page = client.get("/account").text
    secret = page.split('name="secret" value="', 1)[1].split('"', 1)[0]
    r = client.post(
        "/account/2fa",
        data={"secret": secret, "code": pyotp.TOTP(secret).now(), "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert client.get("/api/me").json()["totp_enabled"] is True
    sign_in(app, "alice", totp=secret)  # from now on the code is asked for


def test_cookie_flags(app: Any) -> None:
    add_user(app.state.store, "alice", "therapist")
    client = TestClient(app)
    r = _post_login(client, "alice", PASSWORD)
    cookie = next(
        v
        for k, v in r.headers.multi_items()
        if k == "set-cookie" and v.startswith("attunement_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    tls = TestClient(app, base_url="https://testserver")
    r = _post_login(tls, "alice", PASSWORD)
    cookie = next(
        v
        for k, v in r.headers.multi_items()
        if k == "set-cookie" and v.startswith("attunement_session=")
    )
    assert "Secure" in cookie
    assert r.headers["strict-transport-security"].startswith("max-age=")


def test_idle_timeout(app: Any) -> None:
    add_user(app.state.store, "alice", "therapist")
    client = sign_in(app, "alice")
    assert client.get("/api/me").status_code == 200
    with app.state.store.tx() as db:
        for row in db.query(LoginSession).all():
            row.last_seen = row.last_seen - dt.timedelta(minutes=31)
    assert client.get("/api/me").status_code == 401
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_deactivated_user_is_signed_out(app: Any) -> None:
    add_user(app.state.store, "alice", "therapist")
    client = sign_in(app, "alice")
    with app.state.store.tx() as db:
        user = repo.user_by_name(db, "alice")
        assert isinstance(user, User)
        user.active = False
    assert client.get("/api/me").status_code == 401


@pytest.mark.parametrize("path", ["/login", "/", "/api/me", "/static/app.css"])
def test_security_headers(app: Any, path: str) -> None:
    add_user(app.state.store, "alice", "therapist")
    client = sign_in(app, "alice")
    r = client.get(path)
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "script-src" not in csp  # no script at all
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    if not path.startswith("/static/"):
        assert r.headers["cache-control"] == "no-store"


def test_pages_have_no_inline_script_or_style(app: Any) -> None:
    add_user(app.state.store, "alice", "therapist")
    client = sign_in(app, "alice")
    for path in ("/login", "/", "/clients/new", "/account"):
        html = client.get(path).text.lower()
        assert "<script" not in html and "style=" not in html and "<style" not in html
        assert "http://" not in html and "https://" not in html  # no CDN, nothing remote


def test_validation_errors_do_not_echo_input(app: Any) -> None:
    add_user(app.state.store, "alice", "therapist")
    client = sign_in(app, "alice")
    secret_words = "Jonathan Q. Patient " * 30
    r = client.post(
        "/api/clients",
        json={"pseudonym": secret_words},
        headers={"X-CSRF-Token": page_csrf(client)},
    )
    assert r.status_code == 422
    assert "Jonathan" not in r.text
    r = client.post("/clients", data={"pseudonym": secret_words, "csrf_token": page_csrf(client)})
    assert r.status_code == 422 and "Jonathan" not in r.text and "pseudonym" in r.text
    r = client.post("/clients", data={"pseudonym": "x" * 81, "csrf_token": page_csrf(client)})
    assert r.status_code == 400
    alert = r.text.split('role="alert">', 1)[1].split("</p>", 1)[0]
    assert alert == "pseudonym: at most 80 characters"  # the form keeps the value; the
    # message names the field only


def test_openapi_lists_the_api_only(app: Any) -> None:
    doc = TestClient(app).get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert all(p.startswith("/api/") for p in doc["paths"])
    assert "/api/clients/{client_id}" in doc["paths"]
    assert TestClient(app).get("/docs").status_code == 404  # no CDN-loading doc pages


def test_totp_code_works_once(app: Any) -> None:
    secret = pyotp.random_base32()
    add_user(app.state.store, "root", "admin", secret)
    sign_in(app, "root", totp=secret)
    with app.state.store.tx() as db:
        user = repo.user_by_name(db, "root")
        assert user is not None and user.totp_last_step is not None
        used = user.totp_last_step
    client = TestClient(app)
    assert _post_login(client, "root", PASSWORD).status_code == 303
    token = csrf_of(client.get("/login/totp").text)
    replay = pyotp.TOTP(secret).generate_otp(used)  # still inside its ±30 s window
    r = client.post("/login/totp", data={"code": replay, "csrf_token": token})
    assert r.status_code == 200 and "Code not accepted" in r.text
    assert client.get("/api/me").status_code == 401


@pytest.mark.parametrize("secret", ["0" * 32, "A" * 17, "a" * 32, ""])
def test_bad_enrolment_secret_is_refused(app: Any, secret: str) -> None:
    add_user(app.state.store, "alice", "therapist")
    client = sign_in(app, "alice")
    r = client.post(
        "/account/2fa", data={"secret": secret, "code": "123456", "csrf_token": page_csrf(client)}
    )
    assert r.status_code == 400 and "Code not accepted" in r.text
