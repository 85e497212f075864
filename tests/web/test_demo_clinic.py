"""The demo clinic (`attune serve --demo`): built on a fresh SQLite database through the
real pipeline, signs in with the printed passwords, replaced atomically, and a failed
build leaves nothing behind. Its schedule, couple case, check links and supervision are
written through the features' store functions and read back through them here."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from clinic_helpers import csrf_of
from fastapi.testclient import TestClient

from attunement.cli.main import main
from attunement.store import cases, checks, pending, repo, schedule
from attunement.store import supervision as sv
from attunement.store import supervision_codes as sc
from attunement.store.db import Store
from attunement.store.tables import CheckResponse, Job
from attunement.web.app import create_app
from attunement.web.demo import DemoClinic, DemoError, build_demo, item_answers, spread
from attunement.web.demo.features import shell_answers
from attunement.web.settings import Settings


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, pipeline: Any) -> DemoClinic:
    return build_demo(tmp_path_factory.mktemp("demo"), pipeline)


def _sign_in(app: Any, username: str, password: str, totp: str | None = None) -> TestClient:
    import pyotp

    client = TestClient(app)
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(client.get("/login").text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    if totp:
        code = pyotp.TOTP(totp).now()
        r = client.post(
            "/login/totp",
            data={"code": code, "csrf_token": csrf_of(client.get("/login/totp").text)},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/"
    return client


def test_demo_clinic_contents(demo: DemoClinic) -> None:
    assert {(x.username, x.role) for x in demo.logins} == {
        ("admin", "admin"),
        ("dana", "therapist"),
        ("lee", "therapist"),
        ("morgan", "supervisor"),
        ("robin", "trainee"),
    }
    assert demo.admin_totp_uri.startswith("otpauth://totp/") and demo.admin_totp_secret
    assert sorted(p.name for p in demo.folder.iterdir()) == ["demo.db", "demo.key"]
    store = Store.open(demo.database_url, demo.key_file)
    try:
        with store.tx() as db:
            ids = {u.username: u.id for u in repo.list_users(db)}
            assert repo.trainee_ids(db, ids["morgan"]) == {ids["robin"]}
            clients = {c.pseudonym: c for c in repo.clients_of(db, store.keys, set(ids.values()))}
            assert set(clients) == {"Maple", "Harbor", "Willow", "Juniper", "Cedar"}
            assert clients["Harbor"].history_neglect_or_abuse and clients["Harbor"].fragile
            statuses = db.scalars(sa.select(Job.status)).all()
            assert len(statuses) == demo.sessions >= 8 and set(statuses) == {"done"}
            n = db.scalar(sa.select(sa.func.count()).select_from(CheckResponse))
            assert n == demo.responses
            for name in ("Maple", "Harbor", "Willow"):
                adm = checks.administrations(db, store.keys, clients[name].id)
                assert {a.instrument for a in adm} == set(checks.CHECK_INSTRUMENTS)
            juniper = checks.administrations(db, store.keys, clients["Juniper"].id)
            assert {a.instrument for a in juniper} == {"phq9", "gad7", "rupture_check", "srs"}
            srs = checks.instruments()["srs"]
            from attunement.measures.scoring import score

            totals = [score(srs, a.answers).total for a in juniper if a.instrument == "srs"]
            assert totals == pytest.approx([37.5, 32.8, 36.4])  # a dip below the cutoff of 36
            # the demo's one risk answer: Willow's latest PHQ-9
            (alert,) = checks.alerts_of(db, [c.id for c in clients.values()])
            assert alert.client_id == clients["Willow"].id and alert.item == "phq9_9"
    finally:
        store.close()


def _today(now: dt.datetime) -> dt.date:
    from attunement.store import mail

    return now.astimezone(mail.MailSettings.from_env().zone()).date()


def test_demo_schedule(demo: DemoClinic) -> None:
    """Every client has attended sessions, other outcomes and a coming appointment; the
    story's dates are moved to the build; Harbor's forgotten appointment is recorded as
    missed by the therapist between the two sessions around it."""
    now = dt.datetime.now(dt.UTC)
    store = Store.open(demo.database_url, demo.key_file)
    try:
        with store.tx() as db:
            ids = {u.username: u.id for u in repo.list_users(db)}
            clients = {c.pseudonym: c for c in repo.clients_of(db, store.keys, set(ids.values()))}
            total = 0
            latest = dt.date.min
            for name, c in clients.items():
                appts = schedule.appointments_of(db, store.keys, c.id)
                total += len(appts)
                dates = [s.date for s in repo.sessions_of(db, store.keys, c.id)]
                assert all(d is not None and d <= _today(now) for d in dates), name
                latest = max([latest, *(d for d in dates if d)])
                attended = [a.starts_at.date() for a in appts if a.status == "attended"]
                assert sorted(attended) == sorted(dates), name  # each session was attended
                assert any(a.status == "scheduled" and a.starts_at > now for a in appts), name
            assert total == demo.appointments
            assert latest >= _today(now) - dt.timedelta(days=14)  # the story is recent
            harbor = schedule.appointments_of(db, store.keys, clients["Harbor"].id)
            (missed,) = [a for a in harbor if a.status == "therapist_missed"]
            harbor_sessions = repo.sessions_of(db, store.keys, clients["Harbor"].id)
            s1, s2 = sorted(s.date for s in harbor_sessions if s.date)[:2]
            assert s1 < missed.starts_at.date() < s2 and missed.note  # the note is encrypted
            outcomes = {
                a.status for c in clients.values() for a in schedule.appointments_of(db, None, c.id)
            }
            assert outcomes >= {"attended", "therapist_missed", "client_cancelled"}
            assert outcomes >= {"therapist_cancelled", "scheduled"}
            cedar = schedule.appointments_of(db, None, clients["Cedar"].id)
            assert [a for a in cedar if a.needs_attention(now)]  # one nobody marked
            contact = schedule.get_contact(db, store.keys, clients["Harbor"].id)
            assert contact is not None and contact.reachable
            (rule,) = schedule.rules_of(db, [clients["Harbor"].id])
            assert rule.kind == "appointment" and rule.active
    finally:
        store.close()


def test_demo_couple_case_and_links(demo: DemoClinic) -> None:
    """Cedar is a couple: two partners, each with their own ORS series and check links;
    the unanswered links (open, and one expired) are on the therapists' /checks lists."""
    store = Store.open(demo.database_url, demo.key_file)
    try:
        with store.tx() as db:
            ids = {u.username: u.id for u in repo.list_users(db)}
            clients = {c.pseudonym: c for c in repo.clients_of(db, store.keys, set(ids.values()))}
            cedar = clients["Cedar"]
            members = cases.members_of(db, store.keys, cedar.id)
            assert [m.label for m in members] == ["Partner A", "Partner B"]
            assert cases.case_kind(members) == "couple"
            per_member = checks.member_administrations(db, store.keys, cedar.id)
            for m in members:
                ors = [a for mid, a in per_member if mid == m.id and a.instrument == "ors"]
                assert [a.session for a in ors] == [1, 2, 3]
            assert all(mid is not None for mid, _a in per_member)
            lee = pending.pending_links(db, store.keys, {ids["lee"]}, state="all")
            labels = {(r.client, r.member, r.instrument, r.state) for r in lee}
            assert ("Cedar", "Partner A", "alliance_check", "open") in labels
            assert ("Cedar", "Partner B", "rupture_check", "expired") in labels
            dana = pending.pending_links(db, store.keys, {ids["dana"]}, state="expired")
            assert [(r.client, r.instrument) for r in dana] == [("Maple", "phq9")]
            n_links = sum(len(checks.links_of(db, c.id)) for c in clients.values())
            assert n_links == demo.links
    finally:
        store.close()


def test_demo_supervision(demo: DemoClinic) -> None:
    """morgan reviewed every turn of robin's three Juniper sessions (enough turns of each
    role for a number) and commented; robin answered."""
    store = Store.open(demo.database_url, demo.key_file)
    try:
        with store.tx() as db:
            ids = {u.username: u.id for u in repo.list_users(db)}
            sessions = sv.reviewed_sessions(db, ids["morgan"], {ids["robin"]})
            assert len(sessions) == 3
            codings = sv.codings_for(db, store.keys, sessions, ids["morgan"])
            assert sum(len(c.reviewed) for c in codings) == sum(
                len(c.session.utterances) for c in codings
            )
            agreement = sc.agreement(codings)
            assert agreement.codes and all(c.n >= sc.MIN_AGREEMENT_N for c in agreement.codes)
            assert {c.code for c in agreement.codes} >= {"C_THERAPIST", "F_IGNORE"}
            n = len(sv.corrections_of(db, sessions))
            assert n == demo.corrections
            comments = [c for sid in sessions for c in sv.comments_of(db, store.keys, sid)]
            assert [(c.author, c.author_role) for c in comments] == [
                ("morgan", "supervisor"),
                ("robin", "trainee"),
                ("morgan", "supervisor"),
            ]
            assert comments[0].utterance_id and "not listening" in comments[0].body
            assert len(comments) == demo.comments
    finally:
        store.close()


def test_demo_logins_work(demo: DemoClinic, pipeline: Any) -> None:
    settings = Settings(
        database_url=demo.database_url, key_file=demo.key_file, model="fast", start_worker=False
    )
    app = create_app(settings, pipeline=pipeline)
    try:
        password = {x.username: x.password for x in demo.logins}
        dana = _sign_in(app, "dana", password["dana"])
        caseload = dana.get("/").text
        assert "Maple" in caseload and "Harbor" in caseload and "Willow" not in caseload
        lee = _sign_in(app, "lee", password["lee"]).get("/").text
        # the safety alert leads lee's caseload
        assert "Willow" in lee and "safety alert: 1 answer to review" in lee
        morgan = _sign_in(app, "morgan", password["morgan"]).get("/").text
        assert "Juniper" in morgan and "Maple" not in morgan
        admin = _sign_in(app, "admin", password["admin"], demo.admin_totp_secret)
        assert admin.get("/admin/users").status_code == 200
    finally:
        app.state.store.close()


def test_answers_spread_to_the_totals() -> None:
    from attunement.measures.scoring import score

    inst = checks.instruments()
    for total in (0, 7, 14, 24):  # item 9 stays 0 unless asked: 24 is the most without it
        answers = item_answers(inst["phq9"], total)
        assert score(inst["phq9"], answers).total == total and answers["phq9_9"] == 0
    risky = item_answers(inst["phq9"], 10, risk_item=True)
    assert risky["phq9_9"] == 1 and score(inst["phq9"], risky).total == 10
    assert score(inst["gad7"], item_answers(inst["gad7"], 13)).total == 13
    assert score(inst["alliance_check"], item_answers(inst["alliance_check"], 6)).total == 6
    for total in (0.0, 17.9, 32.8, 40.0):  # score-only shells: four 0-10 marks, one decimal
        answers = shell_answers(inst["ors"], total)
        assert score(inst["ors"], answers).total == pytest.approx(total)
        assert all(inst["ors"].scale.allows(v) for v in answers.values())  # type: ignore[union-attr]
    with pytest.raises(DemoError):
        spread(30, 9, 3)
    with pytest.raises(DemoError):
        item_answers(inst["phq9"], 27)


def test_rebuild_replaces_and_failure_leaves_nothing(tmp_path: Path, pipeline: Any) -> None:
    first = build_demo(tmp_path, pipeline)
    second = build_demo(tmp_path, pipeline)
    assert first.logins[1].password != second.logins[1].password
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db", "demo.key"]

    def broken() -> list[Any]:
        raise RuntimeError("analyzer bug")

    other = tmp_path / "failed"
    with pytest.raises(DemoError, match="could not be analyzed"):
        build_demo(other, broken)
    assert list(other.iterdir()) == []  # no database, no key, no temporary folder


def test_demo_with_a_key_from_the_environment(
    tmp_path: Path, pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    from attunement.store.crypto import new_key

    monkeypatch.setenv("ATTUNEMENT_KEY", base64.b64encode(new_key()).decode())
    clinic = build_demo(tmp_path, pipeline)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db"]  # no key file at all
    store = Store.open(clinic.database_url, clinic.key_file)
    try:
        with store.tx() as db:
            everyone = {u.id for u in repo.list_users(db)}
            assert len(repo.clients_of(db, store.keys, everyone)) == 5
    finally:
        store.close()


def test_demo_refuses_other_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["serve", "--demo", "--demo-dir", str(tmp_path), "--database-url", "sqlite:///x.db"]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == (
        "attune: error: --demo: --demo builds its own database: drop --database-url and --key-file"
    )
    assert list(tmp_path.iterdir()) == []


def test_demo_dates_are_ordered(demo: DemoClinic) -> None:
    store = Store.open(demo.database_url, demo.key_file)
    try:
        with store.tx() as db:
            dates = db.scalars(sa.select(CheckResponse.date)).all()
        assert all(isinstance(d, dt.date) for d in dates)
    finally:
        store.close()


def test_serve_demo_end_to_end(tmp_path: Path) -> None:
    """`attune serve --demo` (what `make demo` runs): builds, prints the sign-ins, serves."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    env.pop("ATTUNEMENT_KEY", None)
    argv = [sys.executable, "-m", "attunement.cli.main", "serve", "--demo"]
    argv += ["--demo-dir", str(tmp_path / "demo"), "--port", str(port)]
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    assert r.status == 200 and b"Sign in" in r.read()
                break
            except OSError:
                assert time.monotonic() < deadline, "the demo server did not come up"
                time.sleep(0.5)
    finally:
        proc.terminate()
        out, _err = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/login" in out
    for name in ("admin", "dana", "lee", "morgan", "robin"):
        assert re.search(rf"^  {name}\s+\w+\s+password: demo-\S+$", out, re.M), name
    assert "otpauth://totp/" in out
