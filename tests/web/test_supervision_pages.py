"""Supervision through the app, on SQLite and PostgreSQL: comments (supervisor and owner
write, other clinicians get 404, encrypted at rest, audited), code corrections from the
review page's forms and the API, the agreement pages, and the training-data download read
by the ``attune train`` loader.

The world (``clinic_helpers.build_world``): tess is a trainee supervised by sam; sue is a
supervisor of nobody; alice and bob are therapists; every session was analyzed by the
bundled fast model, which codes turn u0002 ("Fine I guess. Whatever.").
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from clinic_helpers import World, page_csrf

from attunement.store import supervision as sv
from attunement.store import supervision_codes as sc
from attunement.store.tables import AuditEntry
from attunement.store.tables_supervision import SessionComment

CANARY = "Ocelotcanary7730"


def _model_codes(world: World, owner: str) -> dict[str, set[str]]:
    with world.store.tx() as db:
        found = sv.analysis(db, world.store.keys, world.sessions[owner])
    assert found is not None
    return sc.model_codes(found)


def _actions(world: World, action: str) -> list[AuditEntry]:
    with world.store.tx() as db:
        return list(db.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).all())


def test_review_page_shows_forms_to_owner_and_supervisor(world: World) -> None:
    sid = world.sessions["tess"]
    coded = [u for u, codes in _model_codes(world, "tess").items() if codes]
    assert coded, "the fast model codes a marker in the test transcript"
    for user in ("tess", "sam"):
        html = world.browser(user).get(f"/sessions/{sid}").text
        assert f'action="/sessions/{sid}/comments"' in html
        assert f'action="/sessions/{sid}/corrections"' in html
        assert f'id="review-{coded[0]}"' in html
        assert "<script" not in html and "style=" not in html
    for user in ("alice", "sue"):
        assert world.browser(user).get(f"/sessions/{sid}").status_code == 404


def test_comments_written_by_supervisor_and_owner_read_by_both(world: World) -> None:
    sid = world.sessions["tess"]
    sam, tess = world.browser("sam"), world.browser("tess")
    r = sam.post(
        f"/sessions/{sid}/comments",
        data={"csrf_token": page_csrf(sam), "body": f"Look at {CANARY} here.", "about": "u:u0002"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/sessions/{sid}#comments"
    r = tess.post(
        f"/api/sessions/{sid}/comments",
        json={"body": "Thanks, I will bring it up."},
        headers={"X-CSRF-Token": page_csrf(tess)},
    )
    assert r.status_code == 201 and r.json()["author"] == "tess"
    html = tess.get(f"/sessions/{sid}").text
    assert f"Look at {CANARY} here." in html and 'href="#u0002"' in html
    listed = sam.get(f"/api/sessions/{sid}/comments").json()
    assert [(c["author"], c["utterance_id"]) for c in listed[-2:]] == [
        ("sam", "u0002"),
        ("tess", None),
    ]
    assert _actions(world, "session_comment.create") and _actions(world, "session_comments.read")
    with world.store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM session_comments")).all()
    assert rows and CANARY not in repr(rows)
    url = world.app.state.settings.database_url
    if url.startswith("sqlite"):
        path = Path(url.split(":///", 1)[1])
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert CANARY.encode() not in raw


def test_comment_refused_outside_scope(world: World) -> None:
    sid = world.sessions["tess"]
    for user in ("alice", "sue"):
        client = world.browser(user)
        r = client.post(
            f"/sessions/{sid}/comments",
            data={"csrf_token": page_csrf(client), "body": "not mine"},
            follow_redirects=False,
        )
        assert r.status_code == 404
        r = client.post(
            f"/api/sessions/{sid}/comments",
            json={"body": "not mine"},
            headers={"X-CSRF-Token": page_csrf(client)},
        )
        assert r.status_code == 404
    sam = world.browser("sam")  # a supervisor only comments on their trainees' sessions
    r = sam.post(
        f"/sessions/{world.sessions['bob']}/comments",
        data={"csrf_token": page_csrf(sam), "body": "not my trainee"},
        follow_redirects=False,
    )
    assert r.status_code == 404
    with world.store.tx() as db:
        bodies = [
            world.store.keys.decrypt_text(b, sv.COMMENT)
            for b in db.scalars(sa.select(SessionComment.body_enc))
        ]
    assert not [b for b in bodies if "not mine" in b or "not my trainee" in b]


def test_empty_comment_names_the_field(world: World) -> None:
    tess = world.browser("tess")
    r = tess.post(
        f"/api/sessions/{world.sessions['tess']}/comments",
        json={"body": "   "},
        headers={"X-CSRF-Token": page_csrf(tess)},
    )
    assert r.status_code == 400 and "comment" in r.json()["detail"]


def _sam_corrects(world: World) -> list[str]:
    """sam saves the form of turn u0002: W_MINIMAL is not there, C_THERAPIST is."""
    sid = world.sessions["tess"]
    model = _model_codes(world, "tess")["u0002"]
    assert "W_MINIMAL" in model
    sam = world.browser("sam")
    keep = sorted(model - {"W_MINIMAL"} | {"C_THERAPIST"})
    r = sam.post(
        f"/sessions/{sid}/corrections",
        data={"csrf_token": page_csrf(sam), "utterance_id": "u0002", "codes": keep},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("#review-u0002")
    return keep


def test_corrections_from_the_form_are_the_supervisors_own(world: World) -> None:
    sid = world.sessions["tess"]
    keep = _sam_corrects(world)
    sam = world.browser("sam")
    body = sam.get(f"/api/sessions/{sid}/corrections").json()
    assert body["your_codes"] == {"u0002": keep}
    # a decision for every client code shown in the form
    mine = [c for c in body["corrections"] if c["author"] == "sam"]
    assert {c["code"] for c in mine} == set(sc.correctable_codes("client"))
    assert {c["utterance_id"] for c in mine} == {"u0002"}
    assert {c["author_role"] for c in mine} == {"supervisor"}
    # the trainee's own codes are still the model's
    tess = world.browser("tess").get(f"/api/sessions/{sid}/corrections").json()
    assert tess["your_codes"] == {}
    page = world.browser("tess").get(f"/sessions/{sid}/agreement").text
    assert "sam · supervisor" in page and "Where coders changed" in page
    # a form with a therapist code on a client turn is refused, naming the field
    r = sam.post(
        f"/sessions/{sid}/corrections",
        data={"csrf_token": page_csrf(sam), "utterance_id": "u0002", "codes": ["R_ACKNOWLEDGE"]},
    )
    assert r.status_code == 400 and "code:" in r.text


def test_corrections_api(world: World) -> None:
    sid = world.sessions["alice"]
    alice = world.browser("alice")
    csrf = {"X-CSRF-Token": page_csrf(alice)}
    r = alice.post(
        f"/api/sessions/{sid}/corrections",
        json={
            "corrections": [{"utterance_id": "u0004", "code": "C_THERAPIST", "decision": "present"}]
        },
        headers=csrf,
    )
    assert r.status_code == 201
    assert r.json()["your_codes"]["u0004"] == sorted(
        _model_codes(world, "alice")["u0004"] | {"C_THERAPIST"}
    )
    bad = {"utterance_id": "u0004", "code": "NOT_A_CODE", "decision": "present"}
    r = alice.post(f"/api/sessions/{sid}/corrections", json={"corrections": [bad]}, headers=csrf)
    assert r.status_code == 400 and "code" in r.json()["detail"] and "NOT_A_CODE" not in r.text
    r = alice.post(
        f"/api/sessions/{sid}/corrections",
        json={"corrections": [dict(bad, code="W_MINIMAL", decision="perhaps")]},
        headers=csrf,
    )
    assert r.status_code == 422 and "perhaps" not in r.text
    for user in ("bob", "sam"):  # another therapist; a supervisor of someone else
        other = world.browser(user)
        r = other.post(
            f"/api/sessions/{sid}/corrections",
            json={"corrections": [dict(bad, code="W_MINIMAL")]},
            headers={"X-CSRF-Token": page_csrf(other)},
        )
        assert r.status_code == 404


def test_supervision_page_and_agreement_api(world: World) -> None:
    _sam_corrects(world)
    sam = world.browser("sam")
    html = sam.get("/supervision").text
    assert "tess" in html and "Client of tess" in html
    assert "1 session reviewed by you" in html
    assert "Agreement on 1 turn you reviewed" in html
    assert "too few turns for a number (fewer than 10)" in html
    assert "Client of alice" not in html and "Client of bob" not in html
    (group,) = sam.get("/api/supervision/agreement").json()
    assert group["therapist"] == "tess" and group["utterances"] == 1
    codes = {c["code"]: c for c in group["codes"]}
    assert codes["W_MINIMAL"]["model_count"] == 1 and codes["W_MINIMAL"]["coder_count"] == 0
    assert codes["W_MINIMAL"]["kappa"] is None and not codes["W_MINIMAL"]["enough"]
    assert _actions(world, "agreement.read")
    # a therapist sees their own codes; nothing of the supervisor's
    own = world.browser("bob").get("/api/supervision/agreement").json()
    assert own == [{"therapist": "bob", "sessions": 0, "utterances": 0, "min_n": 10, "codes": []}]
    assert "No reviewed turns yet" in world.browser("bob").get("/supervision").text
    assert ">Supervision</a>" in html
    assert world.browser("admin").get("/supervision").status_code == 403


def test_export_is_accepted_by_the_train_loader(world: World, tmp_path: Path) -> None:
    from attunement.coding.data import read_examples

    _sam_corrects(world)
    client_id = world.clients["tess"]
    for user, query in (("sam", ""), ("tess", "?coder=sam")):
        r = world.browser(user).get(f"/clients/{client_id}/corrections.jsonl{query}")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/x-ndjson")
        assert "attachment" in r.headers["content-disposition"]
        path = tmp_path / f"{user}.jsonl"
        path.write_bytes(r.content)
        (example,) = read_examples(path)
        assert example.item.text == "Fine I guess. Whatever."
        assert example.item.context == [("therapist", "How have things been this week?")]
        assert "W_MINIMAL" not in (example.codes or set()) and "C_THERAPIST" in (
            example.codes or set()
        )
    r = world.browser("sam").get(f"/clients/{client_id}/corrections.jsonl?all=true")
    path.write_bytes(r.content)
    assert len(read_examples(path)) == 6  # every turn of the reviewed session
    assert len(_actions(world, "corrections.export")) >= 3
    # tess has reviewed nothing herself; alice and sue cannot see the client at all
    r = world.browser("tess").get(f"/clients/{client_id}/corrections.jsonl")
    assert r.status_code == 400 and "coder" in r.text
    for user in ("alice", "sue"):
        assert world.browser(user).get(f"/clients/{client_id}/corrections.jsonl").status_code == 404


def test_client_page_lists_reviewers_and_audit_rows(world: World) -> None:
    _sam_corrects(world)
    client_id = world.clients["tess"]
    html = world.browser("tess").get(f"/clients/{client_id}").text
    assert "Reviewed codes" in html and "sam (supervisor): 1 turn in 1 session" in html
    assert f"/clients/{client_id}/corrections.jsonl?coder=sam" in html
    # an owner with no reviews sees no section
    assert "Reviewed codes" not in world.browser("bob").get(f"/clients/{world.clients['bob']}").text
    sam = world.browser("sam")
    for url, action, object_type, object_id in (
        (f"/clients/{client_id}/corrections.jsonl", "corrections.export", "client", client_id),
        ("/supervision", "agreement.read", "user", world.users["sam"]),
        ("/api/supervision/agreement", "agreement.read", "user", world.users["sam"]),
        (
            f"/sessions/{world.sessions['tess']}/agreement",
            "code_corrections.read",
            "session",
            world.sessions["tess"],
        ),
    ):
        assert sam.get(url).status_code == 200
        with world.store.tx() as db:
            last = db.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert (last.actor, last.action, last.object_type, last.object_id) == (
            "sam",
            action,
            object_type,
            str(object_id),
        )
