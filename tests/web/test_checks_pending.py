"""Who has not completed their check: ``/checks`` and ``GET /api/checks`` (open and expired
unanswered links, filter and sort, scoped like the caseload, audited), and check links in
the JSON API (``GET``/``POST /api/clients/{id}/checks``)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from clinic_helpers import World, csrf_of, page_csrf
from fastapi.testclient import TestClient

from attunement.store import audit
from attunement.store.tables import CheckLink


def _api_link(world: World, owner: str, instrument: str, number: int, hours: int = 72) -> dict:
    browser = world.browser(owner)
    r = browser.post(
        f"/api/clients/{world.clients[owner]}/checks",
        json={"instrument": instrument, "session_number": number, "hours": hours},
        headers={"X-CSRF-Token": page_csrf(browser)},
    )
    assert r.status_code == 201, r.text
    body: dict = r.json()
    return body


def _age(world: World, link_id: int, *, sent_days_ago: int, expires_in_hours: float) -> None:
    now = dt.datetime.now(dt.UTC)
    with world.store.tx() as db:
        link = db.get(CheckLink, link_id)
        assert link is not None
        link.created_at = now - dt.timedelta(days=sent_days_ago, minutes=1)
        link.expires_at = now + dt.timedelta(hours=expires_in_hours)


def test_api_creates_a_link_once_and_lists_the_clients_links(world: World) -> None:
    made = _api_link(world, "alice", "gad7", 4)
    assert made["url"].startswith("http://testserver/check/") and made["state"] == "open"
    token = made["url"].rsplit("/", 1)[1]
    alice = world.browser("alice")
    listed = alice.get(f"/api/clients/{world.clients['alice']}/checks").json()
    mine = next(x for x in listed if x["id"] == made["id"])
    assert "url" not in mine and token not in str(listed)  # the URL is returned once only
    assert (mine["instrument"], mine["session_number"], mine["member_id"]) == ("gad7", 4, None)
    # the link works for the client
    anon = TestClient(world.app)
    form = anon.get(f"/check/{token}")
    assert form.status_code == 200
    answers = {f"gad7_{n}": "0" for n in range(1, 8)}
    r = anon.post(f"/check/{token}", data=answers | {"csrf_token": csrf_of(form.text)})
    assert r.status_code == 200
    listed = alice.get(f"/api/clients/{world.clients['alice']}/checks").json()
    assert next(x for x in listed if x["id"] == made["id"])["state"] == "answered"
    # validation names the field, never the input
    r = alice.post(
        f"/api/clients/{world.clients['alice']}/checks",
        json={"instrument": "no-such-thing", "session_number": 1},
        headers={"X-CSRF-Token": page_csrf(alice)},
    )
    assert r.status_code == 400 and "instrument" in r.text and "no-such-thing" not in r.text
    r = alice.post(
        f"/api/clients/{world.clients['alice']}/checks",
        json={"instrument": "phq9", "hours": 10_000},
        headers={"X-CSRF-Token": page_csrf(alice)},
    )
    assert r.status_code == 422 and "10000" not in r.text


def test_pending_list_filters_sorts_and_is_scoped(world: World) -> None:
    old = _api_link(world, "alice", "phq9", 2)
    soon = _api_link(world, "alice", "alliance_check", 3)
    gone = _api_link(world, "alice", "phq9", 1)
    _age(world, old["id"], sent_days_ago=5, expires_in_hours=48)
    _age(world, soon["id"], sent_days_ago=1, expires_in_hours=2)
    _age(world, gone["id"], sent_days_ago=9, expires_in_hours=-24)
    trainee = _api_link(world, "tess", "rupture_check", 1)
    alice = world.browser("alice")

    def ids(**params: str) -> list[int]:
        r = alice.get("/api/checks", params=params)
        assert r.status_code == 200
        return [x["link_id"] for x in r.json() if x["link_id"] in mine]

    mine = {old["id"], soon["id"], gone["id"]}
    assert ids() == [old["id"], soon["id"]]  # default: open, waiting longest first
    assert ids(sort="expires") == [soon["id"], old["id"]]
    assert ids(state="expired") == [gone["id"]]
    assert ids(state="all", sort="oldest") == [gone["id"], old["id"], soon["id"]]
    assert ids(state="all", instrument="phq9") == [gone["id"], old["id"]]
    row = next(x for x in alice.get("/api/checks").json() if x["link_id"] == old["id"])
    assert row["client"] == "Client of alice" and row["days_waiting"] == 5
    assert row["state"] == "open" and row["member"] is None
    assert trainee["id"] not in {x["link_id"] for x in alice.get("/api/checks?state=all").json()}
    assert alice.get("/api/checks", params={"state": "bogus"}).status_code == 422

    # the page: same rows, filters kept in the form, no script
    page = alice.get("/checks", params={"state": "all", "instrument": "phq9"})
    assert page.status_code == 200
    html = page.text
    assert "Who has not completed their check" in html and "<script" not in html
    assert '<option value="all" selected>' in html and '<option value="phq9" selected>' in html
    assert html.count("Client of alice") == 2 and "<strong>expired</strong>" in html
    assert 'href="/checks" aria-current="page"' in html

    # the supervisor sees the trainee's pending link, not alice's
    sam = world.browser("sam").get("/api/checks").json()
    assert {x["link_id"] for x in sam} >= {trainee["id"]} and not mine & {x["link_id"] for x in sam}
    assert world.browser("sue").get("/checks").text.count("Client of") == 0
    with world.store.tx() as db:
        reads = [e for e in audit.recent(db, 30) if e.action == "checks.pending.read"]
    assert reads, "reading the list is audited"


def test_answered_links_leave_the_list(world: World) -> None:
    made = _api_link(world, "bob", "alliance_check", 7)
    bob = world.browser("bob")
    assert made["id"] in {x["link_id"] for x in bob.get("/api/checks").json()}
    token = made["url"].rsplit("/", 1)[1]
    anon = TestClient(world.app)
    form = anon.get(f"/check/{token}")
    answers = {k: "7" for k in ("heard", "goals", "approach", "fit")}
    assert (
        anon.post(f"/check/{token}", data=answers | {"csrf_token": csrf_of(form.text)}).status_code
        == 200
    )
    assert made["id"] not in {x["link_id"] for x in bob.get("/api/checks?state=all").json()}
    with world.store.tx() as db:
        used = db.scalar(sa.select(CheckLink.used_at).where(CheckLink.id == made["id"]))
    assert used is not None


def test_api_is_in_the_openapi_document(world: World) -> None:
    doc = world.browser("alice").get("/api/openapi.json").json()
    assert {
        "/api/checks",
        "/api/clients/{client_id}/checks",
        "/api/clients/{client_id}/members",
    } <= set(doc["paths"])
    assert "post" in doc["paths"]["/api/clients/{client_id}/checks"]
    assert "/checks" not in doc["paths"] and "/clients/{client_id}/members" not in doc["paths"]
