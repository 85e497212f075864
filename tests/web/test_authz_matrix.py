"""Every route × every role × own/other object → allowed or denied, as designed in
``attunement.web.permissions``; anonymous users get nothing but the sign-in pages, the client
check link (``/check/{token}``, see test_check_links.py) and static files. A route added
without a row here fails ``test_matrix_covers_every_route``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from clinic_helpers import PASSWORD, TRANSCRIPT, World, member_of, page_csrf
from fastapi.testclient import TestClient

ROLES = ("admin", "alice", "tess", "sam", "sue")  # therapist, trainee, supervisor ×2
ROLE_OF = {
    "admin": "admin",
    "alice": "therapist",
    "tess": "trainee",
    "sam": "supervisor",
    "sue": "supervisor",
}
#: whose objects count as the user's own ("own" scope); others' objects are bob's
OWN = {"alice": "alice", "tess": "tess", "sam": "tess"}

ANY = ("admin", "therapist", "trainee", "supervisor")
CLINICAL = ("therapist", "trainee", "supervisor")
WRITE = ("therapist", "trainee")
ADMIN = ("admin",)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    roles: tuple[str, ...]  # roles allowed at all
    obj: str | None = None  # "client" | "session" | "job" | "alert": object-scoped
    write: bool = False  # object access needs ownership, not just read scope
    body: str = "none"  # "form" | "upload" | "json" | "none"
    public: bool = False


ROUTES = [
    Route("GET", "/login", (), public=True),
    Route("GET", "/login/totp", (), public=True),
    Route("POST", "/login", (), public=True),
    Route("POST", "/login/totp", (), public=True),
    Route("POST", "/logout", ANY, body="form"),
    Route("GET", "/account", ANY),
    Route("POST", "/account/2fa", ANY, body="form"),
    Route("GET", "/account/password", ANY),
    Route("POST", "/account/password", ANY, body="form"),
    Route("GET", "/", ANY),
    Route("GET", "/clients/new", WRITE),
    Route("POST", "/clients", WRITE, body="form"),
    Route("GET", "/clients/{client_id}", CLINICAL, obj="client"),
    Route("POST", "/clients/{client_id}/sessions", WRITE, obj="client", write=True, body="upload"),
    Route("GET", "/sessions/{session_id}", CLINICAL, obj="session"),
    Route("POST", "/clients/{client_id}/checks", WRITE, obj="client", write=True, body="form"),
    Route("GET", "/check/{token}", (), public=True),
    Route("POST", "/check/{token}", (), public=True),
    Route("POST", "/alerts/{alert_id}/acknowledge", WRITE, obj="alert", write=True, body="form"),
    Route("GET", "/admin/users", ADMIN),
    Route("POST", "/admin/users", ADMIN, body="form"),
    Route("POST", "/admin/assignments", ADMIN, body="form"),
    Route("POST", "/admin/users/{user_id}/deactivate", ADMIN, body="form"),
    Route("POST", "/admin/users/{user_id}/reset-password", ADMIN, body="form"),
    Route("GET", "/admin/audit", ADMIN),
    Route("GET", "/admin/audit.csv", ADMIN),
    Route("GET", "/api/me", ANY),
    Route("GET", "/api/caseload", CLINICAL),
    Route("POST", "/api/clients", WRITE, body="json"),
    Route("GET", "/api/clients/{client_id}", CLINICAL, obj="client"),
    Route("GET", "/api/clients/{client_id}/sessions", CLINICAL, obj="client"),
    Route("GET", "/api/clients/{client_id}/course", CLINICAL, obj="client"),
    Route("GET", "/api/sessions/{session_id}", CLINICAL, obj="session"),
    Route("GET", "/api/sessions/{session_id}/analysis", CLINICAL, obj="session"),
    Route("GET", "/api/jobs/{job_id}", CLINICAL, obj="job"),
    Route("GET", "/api/audit/verify", ADMIN),
    # lifecycle (routes/lifecycle.py): exports for readers; retention and deletion for the
    # owner (a POST delete gets a throwaway client, see _fill); clinic settings for admins
    Route("GET", "/clients/{client_id}/export.fhir.json", CLINICAL, obj="client"),
    Route("GET", "/clients/{client_id}/export.csv", CLINICAL, obj="client"),
    Route("GET", "/clients/{client_id}/report", CLINICAL, obj="client"),
    Route("GET", "/clients/{client_id}/report.pdf", CLINICAL, obj="client"),
    Route("GET", "/api/clients/{client_id}/export/fhir", CLINICAL, obj="client"),
    Route("POST", "/clients/{client_id}/retention", WRITE, "client", True, "form"),
    Route("GET", "/clients/{client_id}/delete", WRITE, "client", True),
    Route("POST", "/clients/{client_id}/delete", WRITE, "client", True, "form"),
    Route("GET", "/admin/settings", ADMIN),
    Route("POST", "/admin/settings", ADMIN, body="form"),
    # scheduling (routes/schedule.py)
    Route("GET", "/schedule", CLINICAL),
    Route("POST", "/schedule/calendar", WRITE, body="form"),
    Route("POST", "/schedule/calendar/revoke", WRITE, body="form"),
    Route("GET", "/calendar/{token}.ics", (), public=True),
    Route("POST", "/clients/{client_id}/appointments", WRITE, "client", True, "form"),
    Route("POST", "/clients/{client_id}/contact", WRITE, "client", True, "form"),
    Route("POST", "/clients/{client_id}/reminders", WRITE, "client", True, "form"),
    Route("POST", "/appointments/{appointment_id}/status", WRITE, "appointment", True, "form"),
    Route("GET", "/api/clients/{client_id}/appointments", CLINICAL, obj="client"),
    Route("POST", "/api/clients/{client_id}/appointments", WRITE, "client", True, "json"),
    # supervision (routes/supervision.py): comments and corrections are written by the
    # owner AND the trainee's supervisor, i.e. by everyone in the session's read scope, so
    # write=False here (can_comment_session / can_correct_session); sue (no trainee) and
    # other therapists get 404. Corrections come before the export so it has rows to export.
    Route("POST", "/sessions/{session_id}/comments", CLINICAL, obj="session", body="form"),
    Route("POST", "/sessions/{session_id}/corrections", CLINICAL, obj="session", body="form"),
    Route("GET", "/sessions/{session_id}/agreement", CLINICAL, obj="session"),
    Route("GET", "/supervision", CLINICAL),
    Route("GET", "/api/sessions/{session_id}/comments", CLINICAL, obj="session"),
    Route("POST", "/api/sessions/{session_id}/comments", CLINICAL, obj="session", body="json"),
    Route("GET", "/api/sessions/{session_id}/corrections", CLINICAL, obj="session"),
    Route("POST", "/api/sessions/{session_id}/corrections", CLINICAL, obj="session", body="json"),
    Route("GET", "/api/supervision/agreement", CLINICAL),
    Route("GET", "/clients/{client_id}/corrections.jsonl", CLINICAL, obj="client"),
    # cases (routes/cases.py, routes/checks.py): people in a case, shell scores, pending
    Route("POST", "/clients/{client_id}/members", WRITE, "client", True, "form"),
    Route("POST", "/members/{member_id}/deactivate", WRITE, "member", True, "form"),
    Route("POST", "/clients/{client_id}/scores", WRITE, "client", True, "form"),
    Route("GET", "/checks", CLINICAL),
    Route("GET", "/api/checks", CLINICAL),
    Route("GET", "/api/clients/{client_id}/checks", CLINICAL, obj="client"),
    Route("POST", "/api/clients/{client_id}/checks", WRITE, "client", True, "json"),
    Route("GET", "/api/clients/{client_id}/members", CLINICAL, obj="client"),
]


def app_routes(app: Any) -> list[Any]:
    """Routes of the app and of its included routers (FastAPI keeps those nested)."""
    out: list[Any] = []
    for r in app.routes:
        nested = getattr(r, "original_router", None)
        out.extend(nested.routes if nested is not None else [r])
    return out


def test_matrix_covers_every_route(world: World) -> None:
    served = {
        (m, r.path)
        for r in app_routes(world.app)
        for m in getattr(r, "methods", ()) or ()
        if m != "HEAD" and r.path != "/api/openapi.json"
    }
    listed = {(r.method, r.path) for r in ROUTES}
    assert served == listed
    # nothing in the app can change or delete audit rows; deleting a client is a POST
    # behind a confirmation page (routes/lifecycle.py), never an HTTP DELETE
    assert not [r for r in served if r[0] in ("PUT", "PATCH", "DELETE")]


def _throwaway_client(world: World, owner: str) -> int:
    """A fresh client of ``owner``, for routes that delete the client they are given."""
    from attunement.store import repo

    with world.store.tx() as db:
        c = repo.create_client(
            db, world.store.keys, therapist_id=world.users[owner], pseudonym="To delete"
        )
        return c.id


def _fill(world: World, route: Route, owner: str) -> str:
    if route.method == "POST" and route.path == "/clients/{client_id}/delete":
        return f"/clients/{_throwaway_client(world, owner)}/delete"
    return route.path.format(
        client_id=world.clients[owner],
        session_id=world.sessions[owner],
        job_id=world.jobs[owner],
        alert_id=world.alerts[owner],
        appointment_id=world.appointments[owner],
        member_id=member_of(world, owner) if "{member_id}" in route.path else 0,
        user_id=world.users["bob"],  # deactivation target: a real user (re-activated below)
    )


def _call(world: World, client: TestClient, route: Route, path: str, csrf: str) -> Any:
    if route.method == "GET":
        return client.get(path, follow_redirects=False)
    if route.body == "json":
        body: dict[str, Any] = {"pseudonym": "Matrix client"}
        if route.path.endswith("/appointments"):
            soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
            body = {"starts_at": soon.strftime("%Y-%m-%dT09:00:00Z"), "minutes": 50}
        if route.path.endswith("/comments"):
            body = {"body": "Matrix comment"}
        if route.path.endswith("/corrections"):
            fix = {"utterance_id": "u0002", "code": "W_MINIMAL", "decision": "absent"}
            body = {"corrections": [fix]}
        if route.path.endswith("/checks"):
            body = {"instrument": "phq9", "session_number": 2}
        return client.post(
            path,
            json=body,
            headers={"X-CSRF-Token": csrf},
            follow_redirects=False,
        )
    data = {"csrf_token": csrf}
    if route.path == "/admin/users":
        data |= {"username": "nobody-new", "role": "therapist", "password": "x" * 12}
    if route.path == "/clients":
        data |= {"pseudonym": "Matrix client"}
    if route.path.endswith("/checks"):
        data |= {"instrument": "phq9", "session_number": "2"}
    if route.path.endswith("/members"):
        data |= {"label": "Matrix member", "role": "member"}
    if route.path.endswith("/delete"):
        data |= {"confirm": "DELETE"}
    if route.path.endswith("/retention"):
        data |= {"level": "keep"}
    if route.path == "/admin/settings":
        data |= {"name": "Clinic", "idle_timeout_minutes": "30", "level": "keep"}
    if route.path.endswith("/scores"):
        data |= {"instrument": "srs", "session_number": "2"}
        data |= {f"srs_{n}": "9.5" for n in range(1, 5)}
    if route.path.endswith("/appointments"):
        soon = dt.date.today() + dt.timedelta(days=30)
        data |= {"date": soon.isoformat(), "time": "09:00", "minutes": "50"}
    if route.path.endswith("/status"):
        data |= {"status": "scheduled"}  # the world's appointment stays as it was
    if route.path.endswith("/contact"):
        data |= {"email": "matrix@example.org"}
    if route.path.endswith("/comments"):
        data |= {"body": "Matrix comment"}
    if route.path.endswith("/corrections"):
        data |= {"utterance_id": "u0002", "codes": "W_DEFERENTIAL"}
    if route.path == "/account/password":  # refused as a mismatch (400): nothing changes
        data |= {"current_password": "x", "new_password": "y" * 12, "new_password_again": "z"}
    if route.path == "/account/2fa":
        data |= {"secret": "A" * 32, "code": "000000"}
    files = {"transcript": ("t.txt", TRANSCRIPT.encode(), "text/plain")}
    return client.post(
        path, data=data, files=files if route.body == "upload" else None, follow_redirects=False
    )


def _allowed(status: int, location: str | None) -> bool:
    if status in (401, 403, 404):
        return False
    if status == 303 and location == "/login":
        return False
    # 400 here is a validated form refusing our deliberately wrong 2FA code / duplicate
    return status in (200, 201, 303, 400)


MATRIX = [
    (route, role, scope)
    for route in ROUTES
    if not route.public and route.path != "/logout"
    for role in ROLES
    for scope in (("own", "other") if route.obj else ("-",))
    if not (scope == "own" and role not in OWN)  # admin and sue own nothing
]


@pytest.mark.parametrize(
    ("route", "user", "scope"),
    MATRIX,
    ids=[f"{r.method} {r.path} {u} {s}" for r, u, s in MATRIX],
)
def test_route_role_object(world: World, route: Route, user: str, scope: str) -> None:
    role = ROLE_OF[user]
    owner = OWN.get(user, "bob") if scope == "own" else "bob"
    client = world.browser(user)
    r = _call(world, client, route, _fill(world, route, owner), page_csrf(client))
    expect = role in route.roles
    if route.obj and expect:
        expect = scope == "own" and not (route.write and role == "supervisor")
    got = _allowed(r.status_code, r.headers.get("location"))
    assert got == expect, (r.status_code, r.headers.get("location"))
    if route.obj and not expect and role in route.roles:
        assert r.status_code == 404  # outside one's scope looks like "not there"
    if route.path == "/admin/users/{user_id}/deactivate" and got:
        from attunement.store.tables import User

        with world.store.tx() as db:
            bob = db.get(User, world.users["bob"])
            assert bob is not None and not bob.active
            bob.active = True
    if route.path.endswith("/reset-password") and got:
        from attunement.store.tables import User
        from attunement.web.security import hash_password

        with world.store.tx() as db:
            bob = db.get(User, world.users["bob"])
            assert bob is not None and bob.must_change_password
            bob.password_hash, bob.must_change_password = hash_password(PASSWORD), False


@pytest.mark.parametrize(
    "route",
    [r for r in ROUTES if not r.public],
    ids=[f"{r.method} {r.path}" for r in ROUTES if not r.public],
)
def test_anonymous_denied(world: World, route: Route) -> None:
    client = TestClient(world.app)
    path = _fill(world, route, "alice")
    r = _call(world, client, route, path, "x")
    if route.path.startswith("/api/"):
        assert r.status_code == 401
    else:
        assert r.status_code == 303 and r.headers["location"] == "/login"


@pytest.mark.parametrize("path", ["/login", "/static/app.css"])
def test_anonymous_allowed(world: World, path: str) -> None:
    r = TestClient(world.app).get(path)
    assert r.status_code == 200


@pytest.mark.parametrize(
    "route",
    [r for r in ROUTES if r.method == "POST" and not r.public],
    ids=[r.path for r in ROUTES if r.method == "POST" and not r.public],
)
def test_posts_need_csrf(world: World, route: Route) -> None:
    user = "admin" if route.roles == ADMIN else "alice"
    client = world.browser(user)
    r = _call(world, client, route, _fill(world, route, "alice"), "wrong-token")
    assert r.status_code == 403
    assert client.get("/api/me").status_code == 200  # still signed in: nothing happened


def test_logout_ends_the_session(world: World) -> None:
    from clinic_helpers import sign_in

    client = sign_in(world.app, "bob")
    csrf = page_csrf(client)
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/api/me").status_code == 401
