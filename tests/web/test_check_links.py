"""Client check links: single use, expiry, nothing stored before submit, answers encrypted
and fed to the course, and the PHQ-9 item 9 safety alert from raise to acknowledgement."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from clinic_helpers import World, csrf_of, page_csrf
from fastapi.testclient import TestClient

from attunement.store import audit, checks
from attunement.store.tables import CheckLink, CheckResponse, SafetyAlert

LINK = re.compile(r'id="new-link">(http://testserver/check/[A-Za-z0-9_-]+)<')


def _new_link(world: World, instrument: str, owner: str = "alice", number: int = 2) -> str:
    browser = world.browser(owner)
    r = browser.post(
        f"/clients/{world.clients[owner]}/checks",
        data={
            "csrf_token": page_csrf(browser),
            "instrument": instrument,
            "session_number": str(number),
        },
    )
    assert r.status_code == 200
    m = LINK.search(r.text)
    assert m, "the new link is shown once on the client page"
    return m.group(1).removeprefix("http://testserver")


def _answers(instrument: str, value: str = "0", **override: str) -> dict[str, str]:
    inst = checks.instruments()[instrument]
    data = {i.id: value for i in inst.items if i.type == "choice"}
    return data | override


def _counts(world: World) -> tuple[int, int]:
    with world.store.tx() as db:
        responses = db.scalar(sa.select(sa.func.count()).select_from(CheckResponse))
        alerts = db.scalar(sa.select(sa.func.count()).select_from(SafetyAlert))
    return int(responses or 0), int(alerts or 0)


def test_link_is_single_use_and_saves_nothing_before_submit(world: World) -> None:
    path = _new_link(world, "gad7")
    anon = TestClient(world.app)
    form = anon.get(path)
    assert form.status_code == 200
    assert "<fieldset" in form.text and "<legend>1." in form.text
    assert "Client of alice" not in form.text  # the form shows nothing about the client
    before = _counts(world)
    # an incomplete form is refused, names the item, stores nothing, keeps the link open
    partial = _answers("gad7")
    partial.pop("gad7_3")
    r = anon.post(path, data=partial | {"csrf_token": csrf_of(form.text)})
    assert r.status_code == 400 and 'aria-invalid="true"' in r.text
    assert "Please choose an answer to question 3." in r.text
    assert _counts(world) == before
    r = anon.post(path, data=_answers("gad7", "1") | {"csrf_token": csrf_of(r.text)})
    assert r.status_code == 200 and "your answers were received" in r.text
    assert "Please look after your safety" not in r.text
    assert _counts(world) == (before[0] + 1, before[1])
    # dead afterwards, for reading and for a second submission
    assert anon.get(path).status_code == 404
    again = anon.post(path, data=_answers("gad7") | {"csrf_token": csrf_of(form.text)})
    assert again.status_code == 404
    assert _counts(world) == (before[0] + 1, before[1])


def test_too_long_note_is_refused_without_quoting_it(world: World) -> None:
    path = _new_link(world, "rupture_check")
    anon = TestClient(world.app)
    form = anon.get(path)
    before = _counts(world)
    note = "q" * 1500
    data = _answers("rupture_check", "1") | {"note": note, "csrf_token": csrf_of(form.text)}
    r = anon.post(path, data=data)
    assert r.status_code == 400
    assert "Your answer to question 4 is too long (1000 characters at most)." in r.text
    assert _counts(world) == before and anon.get(path).status_code == 200


def test_submit_needs_the_form_cookie(world: World) -> None:
    path = _new_link(world, "alliance_check")
    r = TestClient(world.app).post(path, data=_answers("alliance_check") | {"csrf_token": "x"})
    assert r.status_code == 403
    assert TestClient(world.app).get(path).status_code == 200  # still open


def test_expired_and_unknown_links_are_closed(world: World) -> None:
    path = _new_link(world, "phq9")
    token_hash = checks._hash(path.rsplit("/", 1)[1])
    with world.store.tx() as db:
        link = db.scalars(sa.select(CheckLink).where(CheckLink.token_hash == token_hash)).one()
        assert link.token_hash != path.rsplit("/", 1)[1]  # stored hashed
        link.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    anon = TestClient(world.app)
    assert anon.get(path).status_code == 404
    assert anon.get("/check/" + "A" * 43).status_code == 404
    assert anon.get("/check/" + "x" * 500).status_code == 404


def test_link_validation_names_the_field(world: World) -> None:
    browser = world.browser("alice")
    r = browser.post(
        f"/clients/{world.clients['alice']}/checks",
        data={"csrf_token": page_csrf(browser), "instrument": "nope", "session_number": "1"},
    )
    assert r.status_code == 400 and "instrument: must be one of" in r.text


def test_item9_raises_an_alert_until_acknowledged(world: World) -> None:
    """The world's clients start with an item-9 alert each; alice acknowledges hers, a new
    PHQ-9 with item 9 above zero raises a new one, shown with the crisis text."""
    alice = world.browser("alice")
    client_url = f"/clients/{world.clients['alice']}"
    with world.store.tx() as db:
        for alert in checks.alerts_of(db, [world.clients["alice"]]):
            checks.acknowledge(db, alert.id, world.users["alice"])
    assert "Safety:" not in alice.get(client_url).text
    path = _new_link(world, "phq9", number=3)
    anon = TestClient(world.app)
    form = anon.get(path)
    r = anon.post(path, data=_answers("phq9", phq9_9="2") | {"csrf_token": csrf_of(form.text)})
    assert r.status_code == 200 and "Please look after your safety" in r.text
    assert "emergency" in r.text  # the clinic's crisis text (the default here)
    with world.store.tx() as db:
        raised, submitted = audit.recent(db, 2)  # newest first
    assert (submitted.action, submitted.actor, submitted.object_type) == (
        "check.submit",
        "client-link",
        "check_response",
    )
    assert (raised.action, raised.object_type) == ("safety_alert.raise", "safety_alert")
    page = alice.get(client_url).text
    assert "Safety: 1 answer needs your attention" in page
    assert "item 9" in page
    # and on every page of hers (a count only), but not on bob's
    assert "1 safety alert open" in alice.get("/account").text
    assert "1 safety alert open" in alice.get("/").text
    with world.store.tx() as db:
        for other in checks.alerts_of(db, [world.clients["bob"]]):
            checks.acknowledge(db, other.id, world.users["bob"])
    assert "safety-banner" not in world.browser("bob").get("/").text
    assert "safety-banner" not in world.browser("admin").get("/admin/users").text
    with world.store.tx() as db:
        (alert,) = checks.alerts_of(db, [world.clients["alice"]])
    # it stays until acknowledged: reloading changes nothing
    assert "Safety: 1 answer" in alice.get(client_url).text
    r = alice.post(
        f"/alerts/{alert.id}/acknowledge",
        data={"csrf_token": page_csrf(alice)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == client_url
    with world.store.tx() as db:
        rows = audit.recent(db, 5)
        assert any(
            e.action == "safety_alert.acknowledge"
            and e.object_id == str(alert.id)
            and e.actor == "alice"
            for e in rows
        )
        assert checks.alerts_of(db, [world.clients["alice"]]) == []
        closed = db.get(SafetyAlert, alert.id)
        assert closed is not None and closed.acknowledged_by == world.users["alice"]
    assert "Safety:" not in alice.get(client_url).text


def test_crisis_text_is_the_clinics(world: World) -> None:
    from attunement.store import repo

    with world.store.tx() as db:
        repo.clinic_settings(db).crisis_text = "Call the clinic's duty line: 0100 000 000."
    try:
        path = _new_link(world, "phq9", number=4)
        anon = TestClient(world.app)
        form = anon.get(path)
        r = anon.post(path, data=_answers("phq9", phq9_9="1") | {"csrf_token": csrf_of(form.text)})
        assert "duty line: 0100 000 000" in r.text
    finally:
        with world.store.tx() as db:
            repo.clinic_settings(db).crisis_text = None
            for alert in checks.alerts_of(db, [world.clients["alice"]]):
                checks.acknowledge(db, alert.id, world.users["alice"])


def test_answers_feed_the_course_and_are_encrypted(world: World) -> None:
    path = _new_link(world, "rupture_check", owner="alice", number=5)
    anon = TestClient(world.app)
    form = anon.get(path)
    canary = "zebra-canary-7781"
    data = _answers("rupture_check", "1") | {"note": canary, "csrf_token": csrf_of(form.text)}
    assert anon.post(path, data=data).status_code == 200
    with world.store.tx() as db:
        blobs = db.scalars(sa.select(CheckResponse.answers_enc)).all()
        assert blobs and not any(canary.encode() in bytes(b) for b in blobs)
        adm = [
            a
            for a in checks.administrations(db, world.store.keys, world.clients["alice"])
            if a.instrument == "rupture_check"
        ]
        assert adm[-1].texts["note"] == canary and adm[-1].session == 5
    page = world.browser("alice").get(f"/clients/{world.clients['alice']}").text
    assert 'aria-label="PHQ-9 over sessions"' in page  # the course chart (attunement.course)
    assert canary not in page
    api = world.browser("alice").get(f"/api/clients/{world.clients['alice']}/course").json()
    course = api["course"]
    assert course["schema_version"] == "attunement.client/1"
    assert 5 in [p["session"] for p in course["trajectories"]["rupture_check"]["points"]]


def test_supervisor_sees_alerts_but_cannot_acknowledge(world: World) -> None:
    sam = world.browser("sam")
    page = sam.get(f"/clients/{world.clients['tess']}").text
    assert "Safety:" in page and "/acknowledge" not in page  # no button for a supervisor
    r = sam.post(
        f"/alerts/{world.alerts['tess']}/acknowledge",
        data={"csrf_token": page_csrf(sam)},
        follow_redirects=False,
    )
    assert r.status_code == 403  # a supervisor's role never acknowledges
