"""`attune backup` / `attune restore`: an encrypted logical dump that restores row for row
into an empty SQLite or PostgreSQL database (from either), keeps the audit chain and the
encrypted columns as they were, and refuses changed, truncated or wrongly keyed files
without leaving anything in the target."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from clinic_helpers import World, make_app, page_csrf, sign_in

from attunement.cli.main import main
from attunement.store import backup, backup_stream, crypto
from attunement.store.engine import make_engine

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _pg_ok() -> bool:
    try:
        _pg("SELECT 1")
        return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    if not _pg_ok():
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
    name = f"attunement_test_{secrets.token_hex(4)}"
    _pg(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        _pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _key_file(world: World) -> Path:
    path: Path = world.app.state.settings.key_file
    return path


def _norm(v: Any) -> Any:
    if isinstance(v, memoryview):
        return bytes(v)
    if isinstance(v, dt.datetime):
        return (v if v.tzinfo else v.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    return v


def _snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    meta = sa.MetaData()
    meta.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for t in meta.sorted_tables:
            if t.name == "alembic_version":
                continue
            order = list(t.primary_key.columns) or list(t.columns)
            rows = conn.execute(sa.select(t).order_by(*order)).all()
            out[t.name] = [tuple(_norm(v) for v in r) for r in rows]
    return out


def _tables(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.fixture
def made(world: World, tmp_path: Path) -> Path:
    # a read first, so the audit log has rows to carry over
    assert world.browser("alice").get(f"/api/clients/{world.clients['alice']}").status_code == 200
    out = tmp_path / "clinic.attbak"
    backup.backup(world.store.engine, _key_file(world), out)
    return out


def test_backup_file_is_sealed(world: World, made: Path) -> None:
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert not [p for p in made.parent.iterdir() if p.name.startswith(".attbak-")]
    raw = made.read_bytes()
    assert raw.startswith(backup_stream.MAGIC)
    # neither content nor structure is readable: no pseudonym, no table or user names
    blob_start = b"A1" + world.store.keys.current_id.encode()  # how every _enc value begins
    for needle in (b"Client of alice", b"audit_log", b"therapy_sessions", b"alice", blob_start):
        assert needle not in raw[backup_stream.HEADER_LEN :]


def test_round_trip_row_for_row_and_sign_in(
    world: World, made: Path, empty_url: str, tmp_path: Path, pipeline: Any
) -> None:
    source = _snapshot(world.store.engine)
    assert source["audit_log"] and source["therapy_sessions"] and source["check_responses"]
    target = make_engine(empty_url)
    try:
        done = backup.restore(target, _key_file(world), made)
        restored = _snapshot(target)
    finally:
        target.dispose()
    assert done.rows == sum(len(rows) for rows in source.values())
    assert restored.keys() == source.keys()
    for name, rows in source.items():
        assert restored[name] == rows, name  # the _enc columns are the same ciphertext
    # the restored clinic works: sign in, decrypt, and write new rows (sequences moved on)
    app = make_app(empty_url, _key_file(world), pipeline)
    try:
        client = sign_in(app, "alice")
        r = client.get(f"/api/clients/{world.clients['alice']}")
        assert r.status_code == 200 and r.json()["pseudonym"] == "Client of alice"
        r = client.post(
            "/api/clients",
            json={"pseudonym": "After restore"},
            headers={"X-CSRF-Token": page_csrf(client)},
        )
        assert r.status_code in (200, 201), r.status_code
        assert r.json()["id"] > max(world.clients.values())
        verify = sign_in(app, "admin", world.admin_totp).get("/api/audit/verify").json()
        assert verify["ok"] is True
    finally:
        app.state.store.close()


def _restore_fails(world: World, path: Path, url: str, key_file: Path | None = None) -> str:
    engine = make_engine(url)
    try:
        with pytest.raises(backup.BackupError) as info:
            backup.restore(engine, key_file or _key_file(world), path)
    finally:
        engine.dispose()
    assert _tables(url) == []  # nothing was left in the target
    return str(info.value)


def test_changed_byte_is_refused(world: World, made: Path, empty_url: str) -> None:
    raw = bytearray(made.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    made.write_bytes(bytes(raw))
    assert "failed authentication" in _restore_fails(world, made, empty_url)


def test_truncated_file_is_refused(world: World, made: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cut.db'}"
    raw = made.read_bytes()
    made.write_bytes(raw[:-7])
    assert "truncated" in _restore_fails(world, made, url)
    # cut exactly after the header: no frame at all
    made.write_bytes(raw[: backup_stream.HEADER_LEN])
    assert "truncated" in _restore_fails(world, made, url)


def test_dropped_last_frame_is_refused(world: World, tmp_path: Path) -> None:
    # a file of several frames, cut at a frame boundary: every kept frame authenticates,
    # but the last-frame flag is missing
    key = crypto.new_key()
    out = tmp_path / "frames.bin"
    with out.open("wb") as f:
        sealer = backup_stream.Sealer(f, key)
        sealer.write(b"x" * (backup_stream.CHUNK * 2 + 10))
        sealer.close()
    raw = out.read_bytes()
    first_frame = backup_stream.HEADER_LEN + 4 + backup_stream.CHUNK + backup_stream.TAG_LEN
    out.write_bytes(raw[:first_frame])
    with out.open("rb") as f, pytest.raises(backup.BackupError, match="truncated"):
        list(backup_stream.open_frames(f, [key]))
    out.write_bytes(raw)  # the whole file reads back
    with out.open("rb") as f:
        assert b"".join(backup_stream.open_frames(f, [key])) == b"x" * (
            backup_stream.CHUNK * 2 + 10
        )


def test_wrong_key_and_not_a_backup(world: World, made: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    other = tmp_path / "other.key"
    crypto.write_key_file(other, [crypto.new_key()])
    assert "does not hold the key" in _restore_fails(world, made, url, other)
    junk = tmp_path / "junk.attbak"
    junk.write_bytes(b"SQLite format 3\0" + os.urandom(200))
    assert "not an Attunement backup" in _restore_fails(world, junk, url)


def test_restore_refuses_a_database_with_tables(world: World, made: Path) -> None:
    url = str(world.store.engine.url)
    before = _snapshot(world.store.engine)
    engine = make_engine(url)
    try:
        with pytest.raises(backup.BackupError, match="empty database"):
            backup.restore(engine, _key_file(world), made)
    finally:
        engine.dispose()
    assert _snapshot(world.store.engine) == before


def test_cli_backup_and_restore(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if world.store.engine.dialect.name != "sqlite":
        pytest.skip("the CLI is the same on both; run once")
    url = world.store.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "cli.attbak"
    keys = str(_key_file(world))
    assert main(["backup", "--database-url", url, "--key-file", keys, str(out)]) == 0
    assert "backed up" in capsys.readouterr().out
    target = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["restore", "--database-url", target, "--key-file", keys, str(out)]) == 0
    assert "restored" in capsys.readouterr().out
    # a second restore into the same (now full) database: one line, exit 2, no traceback
    assert main(["restore", "--database-url", target, "--key-file", keys, str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "empty database" in err and "Traceback" not in err
    raw = bytearray(out.read_bytes())
    raw[-20] ^= 0xFF
    out.write_bytes(bytes(raw))
    fresh = f"sqlite:///{tmp_path / 'cli2.db'}"
    assert main(["restore", "--database-url", fresh, "--key-file", keys, str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "failed authentication" in err
    assert _tables(fresh) == []
