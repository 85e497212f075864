"""The clinician's path through the pages: add a client, upload a transcript, watch the
job, review the session (episodes with evidence and repair moves first), caseload order;
upload errors name the field and keep nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from clinic_helpers import TRANSCRIPT, add_user, make_app, page_csrf, sign_in

from attunement.store import repo


@pytest.fixture
def app(backend: str, tmp_path: Path, pipeline: Any) -> Any:
    app = make_app(backend, tmp_path / "k.key", pipeline, max_upload_mb=0.01)
    add_user(app.state.store, "alice", "therapist")
    yield app
    app.state.store.close()


def _add_client(client: Any, name: str, **extra: str) -> str:
    r = client.post(
        "/clients",
        data={"pseudonym": name, "csrf_token": page_csrf(client), **extra},
        follow_redirects=False,
    )
    assert r.status_code == 303
    return str(r.headers["location"])


def _upload(client: Any, client_url: str, text: str, **form: str) -> Any:
    return client.post(
        f"{client_url}/sessions",
        data={"csrf_token": page_csrf(client), **form},
        files={"transcript": ("week1.txt", text.encode(), "text/plain")},
        follow_redirects=False,
    )


def test_upload_review_and_caseload(app: Any) -> None:
    client = sign_in(app, "alice")
    quiet = _add_client(client, "Quiet case", start_date="2026-01-05")
    busy = _add_client(client, "Ruptured case", fragile="true", sensitivity="high")
    page = client.get(busy)
    assert page.status_code == 200 and "Upload a transcript" in page.text
    r = _upload(client, busy, TRANSCRIPT, number="3", date="2026-02-01")
    assert r.status_code == 303
    session_url = r.headers["location"]
    waiting = client.get(session_url)
    assert "Waiting in the queue" in waiting.text
    assert '<meta http-equiv="refresh" content="2">' in waiting.text
    job = client.get(f"/api{session_url}").json()
    assert (job["status"], job["number"], job["date"]) == ("queued", 3, "2026-02-01")
    assert app.state.worker.drain() == 1
    review = client.get(session_url).text
    # leads with what needs attention, with the words it rests on and a repair move
    attention = review.index("Needs your attention")
    assert attention < review.index("Timeline") < review.index("Transcript")
    assert "Withdrawal rupture" in review and "Fine I guess. Whatever." in review
    assert "Markers" in review and "<svg" in review
    analysis = client.get(f"/api{session_url}/analysis").json()
    assert analysis["schema_version"] == "attunement.session/1"
    assert analysis["meta"]["session_number"] == 3
    for ep in analysis["episodes"]:
        assert ep["id"] in review
    cases = client.get("/api/caseload").json()
    assert [c["client"]["pseudonym"] for c in cases][-1] == "Quiet case"
    assert cases[-1]["reasons"] == ["no session uploaded yet"]
    html = client.get("/").text
    assert html.index("Ruptured case") < html.index("Quiet case")
    assert client.get(quiet).status_code == 200


@pytest.mark.parametrize(
    ("text", "form", "message"),
    [
        ("", {}, "file: is empty"),
        ("x" * 20_000, {}, "file: over the 0.01 MB limit"),
        (TRANSCRIPT, {"number": "three"}, "session number: expected a whole number"),
        (TRANSCRIPT, {"date": "next week"}, "session date: expected a date like 2026-03-09"),
    ],
)
def test_upload_errors(app: Any, text: str, form: dict[str, str], message: str) -> None:
    client = sign_in(app, "alice")
    url = _add_client(client, "Case")
    r = _upload(client, url, text, **form)
    assert r.status_code == 400
    assert f'role="alert">{message}</p>' in r.text
    with app.state.store.tx() as db:
        assert repo.sessions_of(db, app.state.store.keys, int(url.rsplit("/", 1)[1])) == []


def test_oversized_request_refused_early(app: Any) -> None:
    client = sign_in(app, "alice")
    url = _add_client(client, "Case")
    r = _upload(client, url, "x" * 200_000)
    assert r.status_code == 413


def test_failed_analysis_is_shown_without_content(app: Any) -> None:
    client = sign_in(app, "alice")
    url = _add_client(client, "Case")
    r = _upload(client, url, "Nothing here but one line from Wombatcanary")
    assert r.status_code == 303
    app.state.worker.drain()
    page = client.get(r.headers["location"]).text
    assert "The analysis failed" in page and "Wombatcanary" not in page
    cases = client.get("/api/caseload").json()
    assert "1 analysis failed" in cases[0]["reasons"]


def test_api_create_client(app: Any) -> None:
    client = sign_in(app, "alice")
    r = client.post(
        "/api/clients",
        json={"pseudonym": "Api case", "sensitivity": "low", "start_date": "2026-03-01"},
        headers={"X-CSRF-Token": page_csrf(client)},
    )
    assert r.status_code == 201
    body = r.json()
    assert (body["pseudonym"], body["sensitivity"], body["start_date"]) == (
        "Api case",
        "low",
        "2026-03-01",
    )
    assert client.get(f"/api/clients/{body['id']}").json() == body


def test_lone_surrogates_are_refused_not_crashing(app: Any) -> None:
    client = sign_in(app, "alice")
    r = client.post(
        "/api/clients",
        content=b'{"pseudonym": "Robin \\ud800"}',
        headers={"X-CSRF-Token": page_csrf(client), "Content-Type": "application/json"},
    )
    assert r.status_code == 422  # refused by the JSON parser, not a 500
    with app.state.store.tx() as db, pytest.raises(repo.InputError, match="control or invalid"):
        repo.create_client(db, app.state.store.keys, therapist_id=1, pseudonym="Robin \ud800")
