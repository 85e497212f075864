"""Deleting a client: everything of theirs goes (every table with a client_id, and what
hangs off their sessions), nothing of another client's, the audit row stays and the chain
still verifies; on SQLite the deleted ciphertext is not left in the file or the WAL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from clinic_helpers import TRANSCRIPT, add_user, make_app, page_csrf, sign_in

from attunement.store import audit, checks, repo
from attunement.store.tables import AuditEntry, Base


def _client_with_everything(store: Any, owner: int, name: str) -> tuple[int, int]:
    with store.tx() as db:
        c = repo.create_client(db, store.keys, therapist_id=owner, pseudonym=name)
        sid, _job = repo.add_session(
            db,
            store.keys,
            client_id=c.id,
            uploaded_by=owner,
            filename="s.txt",
            data=TRANSCRIPT.encode(),
            number=1,
        )
        checks.create_link(
            db, client_id=c.id, created_by=owner, instrument="phq9", session_number=2
        )
        checks.add_response(
            db,
            store.keys,
            client_id=c.id,
            instrument=checks.instruments()["phq9"],
            session_number=1,
            date=dt.date(2026, 3, 2),
            answers={f"phq9_{i}": 1.0 for i in range(1, 10)},
        )
    return c.id, sid


@pytest.fixture
def clinic(backend: str, tmp_path: Path, pipeline: Any) -> Any:
    app = make_app(backend, tmp_path / "k.key", pipeline)
    alice = add_user(app.state.store, "alice", "therapist")
    gone = _client_with_everything(app.state.store, alice, "Delete me")
    kept = _client_with_everything(app.state.store, alice, "Keep me")
    assert app.state.worker.drain() == 2
    yield app, gone, kept
    app.state.store.close()


def _client_tables() -> list[sa.Table]:
    return [t for t in Base.metadata.sorted_tables if "client_id" in t.c]


def _session_tables() -> list[tuple[sa.Table, sa.Column[Any]]]:
    """Tables whose rows hang off a session (e.g. jobs) rather than off the client."""
    out = []
    for t in Base.metadata.sorted_tables:
        for fk in t.foreign_keys:
            if fk.column.table.name == "therapy_sessions" and "client_id" not in t.c:
                out.append((t, fk.parent))
    return out


def _counts(app: Any, client_id: int, session_id: int) -> dict[str, int]:
    out = {}
    with app.state.store.engine.connect() as conn:
        for t in _client_tables():
            q = sa.select(sa.func.count()).select_from(t).where(t.c.client_id == client_id)
            out[t.name] = int(conn.execute(q).scalar() or 0)
        for t, col in _session_tables():
            q = sa.select(sa.func.count()).select_from(t).where(col == session_id)
            out[f"{t.name}.{col.name}"] = int(conn.execute(q).scalar() or 0)
        out["clients"] = int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(Base.metadata.tables["clients"])
                .where(Base.metadata.tables["clients"].c.id == client_id)
            ).scalar()
            or 0
        )
    return out


def test_every_foreign_key_to_client_data_cascades() -> None:
    """Deletion relies on ON DELETE CASCADE: a table added later without it would make
    the delete fail (or, with SET NULL on client_id, keep orphaned client data)."""
    for t in Base.metadata.sorted_tables:
        for fk in t.foreign_keys:
            if fk.column.table.name in ("clients", "therapy_sessions", "check_responses"):
                allowed = ("CASCADE",) if fk.parent.name == "client_id" else ("CASCADE", "SET NULL")
                assert (fk.ondelete or "").upper() in allowed, (t.name, fk.parent.name)


def test_delete_removes_everything_of_the_client(clinic: Any) -> None:
    app, (gone, gone_session), (kept, kept_session) = clinic
    before = _counts(app, gone, gone_session)
    for name in (
        "clients",
        "therapy_sessions",
        "check_links",
        "check_responses",
        "safety_alerts",
        "jobs.session_id",
    ):
        assert before[name] >= 1, name
    kept_before = _counts(app, kept, kept_session)
    browser = sign_in(app, "alice")
    page = browser.get(f"/clients/{gone}/delete")
    assert page.status_code == 200 and "Type DELETE to confirm" in page.text
    csrf = page_csrf(browser)
    # the wrong word (or the pseudonym) deletes nothing
    for word in ("", "delete", "Delete me"):
        r = browser.post(f"/clients/{gone}/delete", data={"csrf_token": csrf, "confirm": word})
        assert r.status_code == 400
        assert "Delete me" not in r.text.split("<main", 1)[1].split("Back to the client")[0]
    assert _counts(app, gone, gone_session) == before
    r = browser.post(
        f"/clients/{gone}/delete",
        data={"csrf_token": csrf, "confirm": "DELETE"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    after = _counts(app, gone, gone_session)
    assert after == dict.fromkeys(after, 0), after
    assert _counts(app, kept, kept_session) == kept_before
    assert browser.get(f"/clients/{gone}").status_code == 404
    with app.state.store.tx() as db:
        rows = db.scalars(sa.select(AuditEntry).where(AuditEntry.action == "client.delete")).all()
        assert [(e.object_type, e.object_id, e.actor) for e in rows] == [
            ("client", str(gone), "alice")
        ]
        assert audit.verify(db).ok


def test_deleted_ciphertext_leaves_the_sqlite_file(tmp_path: Path, pipeline: Any) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    app = make_app(url, tmp_path / "k.key", pipeline)
    try:
        alice = add_user(app.state.store, "alice", "therapist")
        gone, sid = _client_with_everything(app.state.store, alice, "Zebracanary4417")
        kept, _ = _client_with_everything(app.state.store, alice, "Stays")
        assert app.state.worker.drain() == 2
        tables = Base.metadata.tables
        blobs: list[bytes] = []
        with app.state.store.engine.connect() as conn:
            for table, col, key, value in (
                ("clients", "pseudonym_enc", "id", gone),
                ("therapy_sessions", "transcript_enc", "id", sid),
                ("therapy_sessions", "result_enc", "id", sid),
                ("therapy_sessions", "filename_enc", "id", sid),
                ("check_responses", "answers_enc", "client_id", gone),
            ):
                t = tables[table]
                blob = conn.execute(sa.select(t.c[col]).where(t.c[key] == value)).scalar()
                assert blob
                blobs.append(bytes(blob)[:40])  # the blob's header and first ciphertext
        path = Path(url.split(":///", 1)[1])

        def raw() -> bytes:
            return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())

        assert all(b in raw() for b in blobs)  # the measurement can see them before
        browser = sign_in(app, "alice")
        r = browser.post(
            f"/clients/{gone}/delete",
            data={"csrf_token": page_csrf(browser), "confirm": "DELETE"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        left = raw()
        assert [i for i, b in enumerate(blobs) if b in left] == []
        assert browser.get(f"/api/clients/{kept}").json()["pseudonym"] == "Stays"
    finally:
        app.state.store.close()


def test_secure_delete_is_on(tmp_path: Path) -> None:
    from attunement.store.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    finally:
        engine.dispose()
