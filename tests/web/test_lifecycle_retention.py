"""Retention levels (keep / delete_transcript / codes_only), per clinic and per client,
applied by the worker when a result is stored and at once when a level is tightened; and
the admin's clinic settings page (name, crisis text, idle timeout, default retention)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from clinic_helpers import TRANSCRIPT, add_user, csrf_of, make_app, page_csrf, sign_in
from fastapi.testclient import TestClient

from attunement.model import Session
from attunement.store import checks, repo, retention
from attunement.store.tables import AuditEntry, LoginSession, TherapySession

CANARY = "Zebracanary4417"
TEXT = TRANSCRIPT.replace("this week?", f"this week, {CANARY}?")


@pytest.fixture
def clinic(backend: str, tmp_path: Path, pipeline: Any) -> Any:
    import pyotp

    app = make_app(backend, tmp_path / "k.key", pipeline)
    secret = pyotp.random_base32()
    add_user(app.state.store, "alice", "therapist")
    add_user(app.state.store, "admin", "admin", secret)
    app.state.admin_totp = secret
    yield app
    app.state.store.close()


def _new_client(browser: TestClient, name: str = "Robin") -> int:
    r = browser.post(
        "/clients",
        data={"pseudonym": name, "csrf_token": page_csrf(browser)},
        follow_redirects=False,
    )
    return int(r.headers["location"].rsplit("/", 1)[1])


def _upload(app: Any, browser: TestClient, client_id: int, number: int = 1) -> int:
    r = browser.post(
        f"/clients/{client_id}/sessions",
        data={"csrf_token": page_csrf(browser), "number": str(number)},
        files={"transcript": (f"{CANARY}.txt", TEXT.encode(), "text/plain")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert app.state.worker.drain() == 1
    return int(r.headers["location"].rsplit("/", 1)[1])


def _stored(app: Any, session_id: int) -> tuple[bytes | None, Session, str]:
    store = app.state.store
    with store.tx() as db:
        row = db.get(TherapySession, session_id)
        assert row is not None and row.result_enc is not None
        result = Session.model_validate_json(
            store.keys.decrypt_text(row.result_enc, "therapy_sessions.result")
        )
        name = store.keys.decrypt_text(row.filename_enc, "therapy_sessions.filename")
        return row.transcript_enc, result, name


def _codes(s: Session) -> list[tuple[str, str, float, str | None]]:
    return [(u.id, a.code, a.probability, a.level) for u in s.utterances for a in u.annotations]


def _set_client(browser: TestClient, client_id: int, level: str, confirm: bool = True) -> Any:
    data = {"csrf_token": page_csrf(browser), "level": level}
    if confirm:
        data["confirm"] = "true"
    return browser.post(f"/clients/{client_id}/retention", data=data, follow_redirects=False)


def test_keep_is_the_default(clinic: Any) -> None:
    browser = sign_in(clinic, "alice")
    sid = _upload(clinic, browser, _new_client(browser))
    transcript, result, name = _stored(clinic, sid)
    assert transcript is not None and name == f"{CANARY}.txt"
    assert any(CANARY in u.text for u in result.utterances)


def test_delete_transcript_for_one_client(clinic: Any) -> None:
    browser = sign_in(clinic, "alice")
    cid, other = _new_client(browser), _new_client(browser, "Other")
    assert _set_client(browser, cid, "delete_transcript").status_code == 303
    sid = _upload(clinic, browser, cid)
    transcript, result, _name = _stored(clinic, sid)
    assert transcript is None  # deleted in the transaction that stored the analysis
    assert any(CANARY in u.text for u in result.utterances)  # the analysis keeps the words
    page = browser.get(f"/sessions/{sid}")
    assert page.status_code == 200 and CANARY in page.text
    assert _stored(clinic, _upload(clinic, browser, other))[0] is not None  # others: keep


def test_codes_only_from_the_clinic_default(clinic: Any) -> None:
    browser = sign_in(clinic, "alice")
    cid = _new_client(browser)
    keep_sid = _upload(clinic, browser, _new_client(browser, "Kept"))
    _t, kept, _n = _stored(clinic, keep_sid)
    admin = sign_in(clinic, "admin", clinic.state.admin_totp)
    r = admin.post(
        "/admin/settings",
        data={
            "csrf_token": page_csrf(admin),
            "name": "Clinic",
            "idle_timeout_minutes": "30",
            "level": "codes_only",
            "confirm": "true",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    sid = _upload(clinic, browser, cid)
    transcript, result, name = _stored(clinic, sid)
    assert transcript is None and name == "transcript.txt"
    assert {u.text for u in result.utterances} == {retention.TEXT_NOT_KEPT}
    assert result.episodes  # so that the quotes below are checked at all
    quotes = {
        ev.quote
        for ep in result.episodes
        for ev in (*ep.markers, *ep.contribution, *ep.repairs, *ep.resolution_evidence)
    }
    assert quotes == {retention.TEXT_NOT_KEPT}
    assert CANARY not in result.model_dump_json()
    # codes, probabilities, timestamps, speakers and episodes are what they were
    assert _codes(result) == _codes(kept)
    assert [u.speaker for u in result.utterances] == [u.speaker for u in kept.utterances]
    assert [(e.kind, e.resolution, e.salience) for e in result.episodes] == [
        (e.kind, e.resolution, e.salience) for e in kept.episodes
    ]
    page = browser.get(f"/sessions/{sid}")
    assert page.status_code == 200 and "keeps codes only" in page.text
    assert CANARY not in page.text
    # the clinic default reached the client who had followed "keep" too (applied at save)
    _t2, now_kept, _n2 = _stored(clinic, keep_sid)
    assert {u.text for u in now_kept.utterances} == {retention.TEXT_NOT_KEPT}


def test_tightening_applies_at_save_and_needs_confirmation(clinic: Any) -> None:
    browser = sign_in(clinic, "alice")
    cid = _new_client(browser)
    sid = _upload(clinic, browser, cid)
    _t, before, _n = _stored(clinic, sid)
    r = _set_client(browser, cid, "codes_only", confirm=False)
    assert r.status_code == 400 and "confirm" in r.text
    assert _stored(clinic, sid)[0] is not None  # nothing removed
    assert _set_client(browser, cid, "codes_only").status_code == 303
    transcript, after, _n = _stored(clinic, sid)
    assert transcript is None and CANARY not in after.model_dump_json()
    assert _codes(after) == _codes(before)
    assert browser.get(f"/api/clients/{cid}/course").status_code == 200
    # loosening is allowed without confirmation but cannot bring the words back
    assert _set_client(browser, cid, "keep", confirm=False).status_code == 303
    assert CANARY not in _stored(clinic, sid)[1].model_dump_json()
    with clinic.state.store.tx() as db:
        actions = db.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.action == "client.retention")
        ).all()
    assert len(actions) == 2
    assert _set_client(browser, cid, "forever").status_code == 400


def test_retention_panel_on_the_client_page(clinic: Any) -> None:
    browser = sign_in(clinic, "alice")
    cid = _new_client(browser)
    page = browser.get(f"/clients/{cid}")
    assert page.status_code == 200
    assert "What is kept" in page.text and "keep everything" in page.text
    assert f'action="/clients/{cid}/retention"' in page.text


# --- the clinic settings page -------------------------------------------------------


def _save(admin: TestClient, **fields: str) -> Any:
    data = {"name": "Clinic", "idle_timeout_minutes": "30", "level": "keep"} | fields
    return admin.post(
        "/admin/settings", data={"csrf_token": page_csrf(admin)} | data, follow_redirects=False
    )


def test_settings_page_saves_and_is_audited(clinic: Any) -> None:
    admin = sign_in(clinic, "admin", clinic.state.admin_totp)
    page = admin.get("/admin/settings")
    assert page.status_code == 200 and 'name="crisis_text"' in page.text
    r = _save(admin, name="Riverside Practice", crisis_text="Call the duty line: 0100 000 000.")
    assert r.status_code == 303 and r.headers["location"] == "/admin/settings?saved=1"
    page = admin.get("/admin/settings?saved=1")
    assert "Riverside Practice" in page.text and "Settings saved" in page.text
    with clinic.state.store.tx() as db:
        s = repo.clinic_settings(db)
        assert (s.name, s.crisis_text, s.retention) == (
            "Riverside Practice",
            "Call the duty line: 0100 000 000.",
            "keep",
        )
        audited = db.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "clinic_settings.update")
        ).all()
        assert len(audited) == 1 and audited[0].actor == "admin"
        cid = repo.create_client(
            db, clinic.state.store.keys, therapist_id=1, pseudonym="Check taker"
        ).id
        token, _link = checks.create_link(
            db, client_id=cid, created_by=1, instrument="phq9", session_number=1
        )
    # the client sees the clinic's crisis text after a risk answer
    anon = TestClient(clinic)
    form = anon.get(f"/check/{token}")
    answers = {i.id: "0" for i in checks.instruments()["phq9"].items if i.type == "choice"}
    r = anon.post(
        f"/check/{token}", data=answers | {"phq9_9": "1", "csrf_token": csrf_of(form.text)}
    )
    assert "duty line: 0100 000 000" in r.text
    # the page header shows the clinic's name
    assert "Riverside Practice" in sign_in(clinic, "alice").get("/").text


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"name": ""}, "clinic name"),
        ({"name": "x" * 121}, "clinic name"),
        ({"idle_timeout_minutes": "abc"}, "idle timeout"),
        ({"idle_timeout_minutes": "2"}, "idle timeout"),
        ({"level": "forever"}, "retention"),
        ({"level": "codes_only"}, "confirm"),  # tightening without the confirmation box
        ({"crisis_text": "a\x00b"}, "crisis text"),
    ],
)
def test_settings_refuses_bad_values(clinic: Any, fields: dict[str, str], where: str) -> None:
    admin = sign_in(clinic, "admin", clinic.state.admin_totp)
    r = _save(admin, **fields)
    assert r.status_code == 400 and f"{where}:" in r.text
    for typed in ("name", "idle_timeout_minutes"):
        if len(fields.get(typed, "")) > 3:
            assert fields[typed] not in r.text  # the input is not quoted back
    with clinic.state.store.tx() as db:
        s = repo.clinic_settings(db)
        assert (s.name, s.idle_timeout_minutes, s.retention) == ("Clinic", 30, "keep")


def _age_sessions(app: Any, minutes: int) -> None:
    with app.state.store.tx() as db:
        for row in db.scalars(sa.select(LoginSession)).all():
            row.last_seen = row.last_seen - dt.timedelta(minutes=minutes)


def test_idle_timeout_comes_from_the_clinic_settings(clinic: Any) -> None:
    admin = sign_in(clinic, "admin", clinic.state.admin_totp)
    assert _save(admin, idle_timeout_minutes="90").status_code == 303
    alice = sign_in(clinic, "alice")
    _age_sessions(clinic, 60)  # past the default 30, within the clinic's 90
    assert alice.get("/api/me").status_code == 200
    _age_sessions(clinic, 91)  # the request above touched last_seen: 91 minutes idle now
    assert alice.get("/api/me").status_code == 401


def test_configured_idle_minutes_win(backend: str, tmp_path: Path, pipeline: Any) -> None:
    app = make_app(backend, tmp_path / "k.key", pipeline, idle_minutes=10)
    try:
        add_user(app.state.store, "alice", "therapist")
        with app.state.store.tx() as db:
            repo.clinic_settings(db).idle_timeout_minutes = 90
        alice = sign_in(app, "alice")
        _age_sessions(app, 11)
        assert alice.get("/api/me").status_code == 401
    finally:
        app.state.store.close()
