"""Score-only shells in the app (SRS/ORS entered by the clinician or sent as a link), the
item-level view beside the totals, and the QR code of a new check link."""

from __future__ import annotations

import base64
import io
import re

import sqlalchemy as sa
from clinic_helpers import World, csrf_of, page_csrf
from fastapi.testclient import TestClient

from attunement.store import audit
from attunement.store.tables import CheckResponse

LINK = re.compile(r'id="new-link">(http://testserver/check/[A-Za-z0-9_-]+)<')
QR = re.compile(r'<img class="qr" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')


def _scores(world: World, owner: str, instrument: str, number: int, *values: str) -> object:
    browser = world.browser(owner)
    data = {f"{instrument}_{n}": v for n, v in enumerate(values, start=1)}
    return browser.post(
        f"/clients/{world.clients[owner]}/scores",
        data=data
        | {
            "csrf_token": page_csrf(browser),
            "instrument": instrument,
            "session_number": str(number),
            "date": f"2026-03-{number + 10:02d}",
        },
        follow_redirects=False,
    )


def _responses(world: World) -> int:
    with world.store.tx() as db:
        return int(db.scalar(sa.select(sa.func.count()).select_from(CheckResponse)) or 0)


def test_clinician_enters_shell_scores_and_they_reach_the_course(world: World) -> None:
    alice = world.browser("alice")
    client_id = world.clients["alice"]
    page = alice.get(f"/clients/{client_id}").text
    assert "Enter scores from a paper form" in page and 'id="s-ors_1"' in page
    assert "use under your own licence" in page
    r = _scores(world, "alice", "srs", 1, "9.5", "9", "8,1", "9")  # a comma works too
    assert r.status_code == 303  # type: ignore[attr-defined]
    r = _scores(world, "alice", "srs", 2, "10", "10", "9.5", "10")
    assert r.status_code == 303  # type: ignore[attr-defined]
    course = alice.get(f"/api/clients/{client_id}/course").json()["course"]
    srs = course["trajectories"]["srs"]
    assert [p["score"]["total"] for p in srs["points"]] == [35.6, 39.5]
    assert srs["cutoff"] == 36 and srs["points"][0]["score"]["above_cutoff"] is False
    with world.store.tx() as db:
        assert "check_response.create" in [e.action for e in audit.recent(db, 3)]
        blobs = db.scalars(sa.select(CheckResponse.answers_enc)).all()
    assert all(b"srs_1" not in blob for blob in blobs)  # stored encrypted


def test_shell_scores_are_validated_and_nothing_is_stored(world: World) -> None:
    before = _responses(world)
    for values, field in (
        (("11", "1", "1", "1"), "srs_1"),
        (("1", "5.55", "1", "1"), "srs_2"),
        (("1", "1", "", "1"), "srs_3"),
        (("1", "1", "1", "lots"), "srs_4"),
    ):
        r = _scores(world, "alice", "srs", 3, *values)
        assert r.status_code == 400, values  # type: ignore[attr-defined]
        text = r.text  # type: ignore[attr-defined]
        assert f"{field}:" in text and "Nothing was saved" in text
        assert "lots" not in text and "5.55" not in text
    r = _scores(world, "alice", "phq9", 3, "1", "1", "1", "1")
    assert r.status_code == 400  # type: ignore[attr-defined]
    assert _responses(world) == before
    # not the owner: bob cannot enter scores for alice's client, the supervisor neither
    bob = world.browser("bob")
    r2 = bob.post(
        f"/clients/{world.clients['alice']}/scores",
        data={"csrf_token": page_csrf(bob), "instrument": "srs", "session_number": "1"},
    )
    assert r2.status_code == 404 and _responses(world) == before


def test_a_link_can_carry_a_shell_with_scale_inputs(world: World) -> None:
    alice = world.browser("alice")
    r = alice.post(
        f"/clients/{world.clients['alice']}/checks",
        data={"csrf_token": page_csrf(alice), "instrument": "ors", "session_number": "4"},
    )
    assert r.status_code == 200
    m = LINK.search(r.text)
    assert m
    url = m.group(1)
    # the QR code beside the link encodes exactly this URL
    q = QR.search(r.text)
    assert q, "a QR code is shown with the new link"
    import segno

    expected = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        expected, kind="svg", scale=4, border=4, dark="#1f2a33", light="#ffffff", xmldecl=False
    )
    svg = base64.b64decode(q.group(1))
    assert svg == expected.getvalue() and svg.startswith(b"<svg") and b"<script" not in svg
    assert url.encode() not in svg  # only the code, no text copy of the token
    # the client's form: four labelled inputs, no wording, the paper-form note
    path = url.removeprefix("http://testserver")
    anon = TestClient(world.app)
    form = anon.get(path)
    assert form.status_code == 200
    for n in range(1, 5):
        assert f'<label for="q-ors_{n}">Scale {n}' in form.text
    assert "paper form your therapist gave you" in form.text and "<fieldset" not in form.text
    before = _responses(world)
    bad = {"ors_1": "4", "ors_2": "4", "ors_3": "12", "ors_4": "4"}
    r = anon.post(path, data=bad | {"csrf_token": csrf_of(form.text)})
    assert r.status_code == 400 and "Please enter a number from 0 to 10 for scale 3." in r.text
    assert 'aria-invalid="true"' in r.text and _responses(world) == before
    good = {"ors_1": "4.5", "ors_2": "5", "ors_3": "6.2", "ors_4": "5"}
    r = anon.post(path, data=good | {"csrf_token": csrf_of(r.text)})
    assert r.status_code == 200 and _responses(world) == before + 1
    trajs = alice.get(f"/api/clients/{world.clients['alice']}/course").json()["course"][
        "trajectories"
    ]
    assert trajs["ors"]["points"][-1]["score"]["total"] == 20.7
    assert trajs["ors"]["cutoff"] == 25  # no age band known: the adult cutoff


def test_items_panel_shows_item_answers_beside_totals(world: World) -> None:
    page = world.browser("alice").get(f"/clients/{world.clients['alice']}").text
    start = page.index('id="items-h"')
    items = page[start:]
    # PHQ-9 (the world's answer with item 9 endorsed): wording, risk item marked
    assert "<caption>PHQ-9" in items and "Little interest or pleasure in doing things" in items
    assert "risk item" in items and "endorsed</span></strong>" in items
    # shells: "item 1..4" and no wording, totals beside the items
    srs = items[items.index("<caption>SRS") :]
    srs = srs[: srs.index("</table>")]
    assert "item 1" in srs and "item 4" in srs and "35.6" in srs and "39.5" in srs
    assert "below 36" in srs  # the band from the instrument file
    # a supervisor sees the items of their trainee's client, without the entry form
    sam = world.browser("sam").get(f"/clients/{world.clients['tess']}").text
    assert 'id="items-h"' in sam and "Enter scores from a paper form" not in sam
