"""Every route × every role × own/other object → allowed or denied, as designed in
``attunement.web.permissions``; anonymous users get nothing but the sign-in pages, the client
check link (``/check/{token}``, see test_check_links.py) and static files. A route added
without a row here fails ``test_matrix_covers_every_route``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from clinic_helpers import TRANSCRIPT, World, page_csrf
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
    # nothing in the app can change or delete audit rows, or delete anything at all
    assert not [r for r in served if r[0] in ("PUT", "PATCH", "DELETE")]


def _fill(world: World, route: Route, owner: str) -> str:
    return route.path.format(
        client_id=world.clients[owner],
        session_id=world.sessions[owner],
        job_id=world.jobs[owner],
        alert_id=world.alerts[owner],
        user_id=world.users["bob"],  # deactivation target: a real user (re-activated below)
    )


def _call(world: World, client: TestClient, route: Route, path: str, csrf: str) -> Any:
    if route.method == "GET":
        return client.get(path, follow_redirects=False)
    if route.body == "json":
        return client.post(
            path,
            json={"pseudonym": "Matrix client"},
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
    if route.path.endswith("/deactivate") and got:
        from attunement.store.tables import User

        with world.store.tx() as db:
            bob = db.get(User, world.users["bob"])
            assert bob is not None and not bob.active
            bob.active = True


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
