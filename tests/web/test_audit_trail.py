"""Audit: every route that reads clinical content writes a row naming who, what and which
object; denied attempts are recorded too; the log is append-only (database triggers) and
hash-chained, so an edited, removed or forged row is found by ``verify``.

The PHI-read check is generic: every GET route the app serves (the authorization matrix
``ROUTES`` of test_authz_matrix.py, which must equal the app's routes) is a PHI read and
must write an audit row naming its object, unless it is in the explicit allow-list
``NOT_PHI`` below. A route added by anyone is therefore covered without editing this file.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from clinic_helpers import World, page_csrf, sign_in
from test_authz_matrix import ROUTES, Route, _call, _fill, app_routes

from attunement.store import audit
from attunement.store.tables import AuditEntry

#: GET routes that show no clinical content, each with the reason (the allow-list)
NOT_PHI = {
    "/login": "sign-in form",
    "/login/totp": "sign-in form",
    "/account": "the user's own account",
    "/account/password": "the user's own account",
    "/clients/new": "an empty form",
    "/clients/{client_id}/delete": "the confirmation form names the client's id only",
    "/admin/users": "accounts, no clinical content",
    "/admin/audit": "identifiers only",
    "/admin/audit.csv": "identifiers only",
    "/admin/settings": "clinic settings",
    "/api/me": "the user's own account",
    "/check/{token}": "the questionnaire's items only, nothing about the client",
    "/calendar/{token}.ics": "the feed's events name no client (audited as calendar-feed)",
    "/api/jobs/{job_id}": "a job's state and progress",
    "/api/audit/verify": "the chain's state",
}
#: the user who reads each route: the owner where a therapist may read it, else the admin
READER = "alice"


def _gets() -> list[Route]:
    return [r for r in ROUTES if r.method == "GET"]


PHI_ROUTES = [r for r in _gets() if r.path not in NOT_PHI]


def _last(world: World) -> AuditEntry:
    with world.store.tx() as db:
        return audit.recent(db, 1)[0]


def test_every_get_route_is_classified(world: World) -> None:
    gets = {r.path for r in app_routes(world.app) if "GET" in (getattr(r, "methods", ()) or ())}
    gets.discard("/api/openapi.json")
    assert {r.path for r in _gets()} == gets  # the matrix lists every served GET route
    assert set(NOT_PHI) <= gets, set(NOT_PHI) - gets  # no stale allow-list entry
    public = {r.path for r in _gets() if r.public}
    assert public <= set(NOT_PHI), public - set(NOT_PHI)  # no PHI without a sign-in
    assert len(PHI_ROUTES) >= 9


def _reader(route: Route) -> str:
    return READER if "therapist" in route.roles else "admin"


@pytest.fixture(scope="module")
def with_content(world: World) -> World:
    """Something to read on every route: each JSON write of the API is called once as the
    reader (the matrix's request bodies), e.g. a correction for the corrections export."""
    client = world.browser(READER)
    for route in ROUTES:
        if route.method == "POST" and route.body == "json" and "therapist" in route.roles:
            r = _call(world, client, route, _fill(world, route, READER), page_csrf(client))
            assert r.status_code < 300, (route.path, r.status_code)
    return world


@pytest.mark.parametrize("route", PHI_ROUTES, ids=[r.path for r in PHI_ROUTES])
def test_phi_read_writes_audit_row(with_content: World, route: Route) -> None:
    world = with_content
    user = _reader(route)
    client = world.browser(user)
    url = _fill(world, route, user if user in world.clients else "alice")
    with world.store.tx() as db:
        before = audit.head(db)[0]
    r = client.get(url, follow_redirects=False)
    assert r.status_code == 200, r.status_code
    with world.store.tx() as db:
        rows = db.scalars(sa.select(AuditEntry).where(AuditEntry.seq > before)).all()
    mine = [(e.action, e.object_type, e.object_id) for e in rows if e.actor == user]
    assert mine, f"{route.path}: no audit row written for the read"
    assert all(e.outcome == "ok" for e in rows if e.actor == user)
    if route.obj:
        at = route.path.split("/").index("{" + route.obj + "_id}")
        object_id = url.split("/")[at]
        assert (route.obj, object_id) in {(t, i) for _a, t, i in mine}, (route.path, mine)
    else:  # a list of the user's clients (caseload, schedule …): the row names the user
        assert ("user", str(world.users[user])) in {(t, i) for _a, t, i in mine}, mine


def test_denied_read_is_audited(world: World) -> None:
    client = world.browser("alice")
    r = client.get(f"/clients/{world.clients['bob']}")
    assert r.status_code == 404
    e = _last(world)
    assert (e.actor, e.action, e.object_id, e.outcome) == (
        "alice",
        "access.denied",
        str(world.clients["bob"]),
        "denied",
    )


def test_changes_and_sign_ins_are_audited(world: World) -> None:
    client = sign_in(world.app, "bob")
    assert _last(world).action == "login.ok"
    csrf = client.get("/api/me").json()["csrf_token"]
    r = client.post(
        "/clients", data={"pseudonym": "Audit case", "csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    e = _last(world)
    assert (e.actor, e.action, e.object_type) == ("bob", "client.create", "client")
    assert r.headers["location"] == f"/clients/{e.object_id}"


def test_audit_rows_hold_no_content(world: World) -> None:
    with world.store.tx() as db:
        rows = db.scalars(sa.select(AuditEntry)).all()
    text = " ".join(f"{e.actor} {e.action} {e.object_type} {e.object_id}" for e in rows)
    assert "Client of" not in text and "Whatever" not in text


def test_admin_sees_and_verifies_the_log(world: World) -> None:
    admin = world.browser("admin")
    r = admin.get("/admin/audit")
    assert r.status_code == 200 and "Chain intact" in r.text
    check = admin.get("/api/audit/verify").json()
    assert check["ok"] is True and check["checked"] == check["head_seq"] > 0
    csv_text = admin.get("/admin/audit.csv").text
    assert csv_text.splitlines()[0].startswith("seq,at,actor_id,actor,action")


def test_database_refuses_update_and_delete(backend: str, tmp_path: object) -> None:
    from pathlib import Path

    from attunement.store.db import Store

    assert isinstance(tmp_path, Path)
    store = Store.open(backend, tmp_path / "k.key")
    with store.tx() as db:
        audit.append(
            db, actor_id=1, actor="alice", action="client.read", object_type="client", object_id=1
        )
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DBAPIError), store.engine.begin() as conn:
            conn.execute(sa.text(sql))
    with store.tx() as db:
        assert audit.verify(db).ok
    store.close()


def _tamper(store: object, sql: str) -> None:
    from attunement.store.db import Store

    assert isinstance(store, Store)
    with store.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(sa.text("DROP TRIGGER audit_log_no_update"))
            conn.execute(sa.text("DROP TRIGGER audit_log_no_delete"))
        else:
            conn.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(sa.text(sql))


@pytest.mark.parametrize(
    ("sql", "problem", "seq"),
    [
        ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", "a row was changed", 2),
        ("DELETE FROM audit_log WHERE seq = 2", "a row is missing", 2),
        ("DELETE FROM audit_log WHERE seq = 3", "the log's last rows were removed", 3),
        (
            "UPDATE audit_log SET prev_hash = hash WHERE seq = 3",
            "a row does not follow its predecessor",
            3,
        ),
    ],
)
def test_tampering_is_detected(
    backend: str, tmp_path: object, sql: str, problem: str, seq: int
) -> None:
    from pathlib import Path

    from attunement.store.db import Store

    assert isinstance(tmp_path, Path)
    store = Store.open(backend, tmp_path / "k.key")
    with store.tx() as db:
        for i in range(3):
            audit.append(
                db,
                actor_id=1,
                actor="alice",
                action="client.read",
                object_type="client",
                object_id=i,
            )
        assert audit.verify(db).ok
    _tamper(store, sql)
    with store.tx() as db:
        result = audit.verify(db)
    assert (result.ok, result.problem, result.seq) == (False, problem, seq)
    store.close()


def test_audit_refuses_free_text() -> None:
    from unittest.mock import MagicMock

    with pytest.raises(ValueError, match="identifier"):
        audit.append(
            MagicMock(),
            actor_id=1,
            actor="alice",
            action="client.read",
            object_type="client",
            object_id="Robin Smith, 1980",
        )


def test_concurrent_appends_keep_one_chain(backend: str, tmp_path: object) -> None:
    """Requests in parallel threads (as under uvicorn) never fork or break the chain."""
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    from attunement.store.db import Store

    assert isinstance(tmp_path, Path)
    store = Store.open(backend, tmp_path / "k.key")

    def work(n: int) -> None:
        for i in range(10):
            with store.tx() as db:
                audit.append(
                    db,
                    actor_id=n,
                    actor=f"user{n}",
                    action="client.read",
                    object_type="client",
                    object_id=i,
                )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    with store.tx() as db:
        result = audit.verify(db)
        assert (result.ok, result.checked) == (True, 40)
        assert audit.head(db)[0] == 40
    store.close()
