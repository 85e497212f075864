"""The store on SQLite and PostgreSQL: migrations agree with the table classes, SQLite
pragmas, repository round trips, job claiming, crash recovery and failed analyses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from clinic_helpers import TRANSCRIPT

from attunement.store import engine as store_engine
from attunement.store import jobs, repo
from attunement.store.db import Store
from attunement.store.tables import Base, Job
from attunement.store.worker import Worker


@pytest.fixture
def store(backend: str, tmp_path: Path) -> Any:
    s = Store.open(backend, tmp_path / "k.key")
    yield s
    s.close()


def test_migrated_schema_matches_tables(store: Store) -> None:
    insp = sa.inspect(store.engine)
    assert store_engine.current_revision(store.engine) == "v0008"
    for table in Base.metadata.sorted_tables:
        cols = {c["name"]: c for c in insp.get_columns(table.name)}
        assert set(cols) == {c.name for c in table.columns}, table.name
        for c in table.columns:
            assert cols[c.name]["nullable"] == c.nullable, (table.name, c.name)
    store_engine.migrate(store.engine)  # idempotent
    assert store_engine.current_revision(store.engine) == "v0008"


def test_sqlite_pragmas(tmp_path: Path) -> None:
    eng = store_engine.make_engine(str(tmp_path / "plain.db"))  # a bare path means SQLite
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    eng.dispose()


def test_urls() -> None:
    assert store_engine.normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert store_engine.normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(store_engine.DatabaseError, match="unsupported"):
        store_engine.make_engine("mysql://u@h/db")


def test_foreign_keys_enforced(store: Store) -> None:
    with pytest.raises(sa.exc.IntegrityError), store.tx() as db:
        repo.create_client(db, store.keys, therapist_id=999, pseudonym="Nobody's client")


def test_input_errors_name_the_field(store: Store) -> None:
    with store.tx() as db:
        with pytest.raises(repo.InputError) as err:
            repo.create_user(db, "Bad Name!", "therapist", "h")
        assert err.value.where == "username"
        with pytest.raises(repo.InputError) as err:
            repo.create_user(db, "carol", "janitor", "h")
        assert err.value.where == "role"
        user = repo.create_user(db, "carol", "therapist", "h")
        with pytest.raises(repo.InputError, match="exists"):
            repo.create_user(db, "carol", "therapist", "h")
        with pytest.raises(repo.InputError) as err:
            repo.create_client(db, store.keys, therapist_id=user.id, pseudonym="Robin\x07")
        assert err.value.where == "pseudonym" and "Robin" not in str(err.value)


def _queue(store: Store, data: bytes = TRANSCRIPT.encode(), name: str = "s.txt") -> int:
    with store.tx() as db:
        user = repo.create_user(db, f"t{len(repo.list_users(db))}x", "therapist", "h")
        client = repo.create_client(db, store.keys, therapist_id=user.id, pseudonym="P")
        _sid, job_id = repo.add_session(
            db, store.keys, client_id=client.id, uploaded_by=user.id, filename=name, data=data
        )
    return job_id


def test_claim_is_exclusive(store: Store) -> None:
    first, second = _queue(store), _queue(store)
    with store.tx() as db:
        assert jobs.claim(db) == first
    with store.tx() as db:
        assert jobs.claim(db) == second
    with store.tx() as db:
        assert jobs.claim(db) is None


def test_crash_recovery(store: Store) -> None:
    """A job left running by a killed process is queued again, then failed for good."""
    job_id = _queue(store)
    for _ in range(jobs.MAX_ATTEMPTS):
        with store.tx() as db:
            assert jobs.claim(db) == job_id  # "crash": never finished
        with store.tx() as db:
            assert jobs.recover(db) == 1
    with store.tx() as db:
        job = db.get(Job, job_id)
        assert job is not None
        assert (job.status, job.error) == ("failed", "stopped too often")
        session = repo.get_session(db, store.keys, job.session_id)
        assert session is not None and repo.session_result(db, store.keys, session.id) is None


def test_worker_records_a_bad_transcript_safely(store: Store, pipeline: Any) -> None:
    canary = "Quokkacanary77"
    job_id = _queue(store, f"just one line by nobody {canary}".encode(), "notes.txt")
    worker = Worker(store, pipeline)
    assert worker.run_once() == job_id
    with store.tx() as db:
        job = db.get(Job, job_id)
        assert job is not None and job.status == "failed"
        assert job.error and canary not in job.error
        assert job.error.startswith("notes.txt")  # names the file, says what is wrong


def test_worker_keeps_going_after_a_bug(store: Store) -> None:
    def broken() -> list[Any]:
        raise RuntimeError("boom")

    job_id = _queue(store)
    worker = Worker(store, broken)
    assert worker.run_once() == job_id
    with store.tx() as db:
        job = db.get(Job, job_id)
        assert job is not None and (job.status, job.error) == (
            "failed",
            "internal error (RuntimeError)",
        )


def test_worker_result_and_summary(store: Store, pipeline: Any) -> None:
    job_id = _queue(store)
    worker = Worker(store, pipeline)
    assert worker.drain() == 1
    with store.tx() as db:
        job = db.get(Job, job_id)
        assert job is not None and (job.status, job.progress) == ("done", 100)
        view = repo.get_session(db, store.keys, job.session_id)
        assert view is not None
        assert view.summary["utterances"] == 6 and view.summary["episodes"] >= 1
        from attunement.model import Session

        result = repo.session_result(db, store.keys, view.id)
        assert result is not None
        session = Session.model_validate_json(result)
        assert len(session.episodes) == view.summary["episodes"]
        assert session.meta.client_id == f"client-{view.client_id}"


def test_worker_transcribes_an_uploaded_recording(
    store: Store, pipeline: Any, tmp_path: Path
) -> None:
    """A recording uploaded like a transcript is decoded from memory and analyzed."""
    import importlib.util
    import shutil
    import sys

    pytest.importorskip("faster_whisper")
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (make setup installs it)")
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("synth_audio", root / "benchmarks/synth_audio.py")
    assert spec and spec.loader
    synth = importlib.util.module_from_spec(spec)
    sys.modules["synth_audio"] = synth  # its dataclasses look their module up
    spec.loader.exec_module(synth)
    synth.render(tmp_path / "audio")
    job_id = _queue(store, (tmp_path / "audio" / "stereo.wav").read_bytes(), "week3.wav")
    assert Worker(store, pipeline).drain() == 1
    with store.tx() as db:
        job = db.get(Job, job_id)
        assert job is not None and job.status == "done", job.error
        view = repo.get_session(db, store.keys, job.session_id)
        assert view is not None and view.summary["utterances"] >= 14
