"""Encryption at rest: a canary planted in a pseudonym, a transcript (and so in the
analysis result), a file name and a TOTP secret never appears in the raw database — not
in the SQLite file or its WAL, not in any PostgreSQL row — before or after key rotation."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from clinic_helpers import TRANSCRIPT, add_user, make_app, page_csrf, sign_in

from attunement.store import crypto, repo
from attunement.store.rotate import encrypted_columns, rotate_key
from attunement.store.tables import Base

CANARY = "Zebracanary4417"


def _raw_dump(url: str, engine: sa.Engine) -> bytes:
    """Everything the database holds, as bytes (files for SQLite, rows for PostgreSQL)."""
    if url.startswith("sqlite"):
        path = Path(url.split(":///", 1)[1])
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    out = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            out += [
                str(row).encode() for row in conn.execute(sa.text(f"SELECT * FROM {table.name}"))
            ]
    return b"\n".join(out)


def _leaks(raw: bytes) -> list[str]:
    forms = {
        "plain": CANARY.encode(),
        "utf16": CANARY.encode("utf-16-le"),
        "hex": CANARY.encode().hex().encode(),
        "base64": base64.b64encode(CANARY.encode())[:12],
    }
    return [name for name, needle in forms.items() if needle in raw]


def _plant(url: str, key_file: Path, pipeline: Any) -> Any:
    app = make_app(url, key_file, pipeline)
    store = app.state.store
    add_user(store, "alice", "therapist")
    client = sign_in(app, "alice")
    csrf = page_csrf(client)
    r = client.post(
        "/clients",
        data={"pseudonym": f"Robin {CANARY}", "csrf_token": csrf},
        follow_redirects=False,
    )
    client_url = r.headers["location"]
    text = TRANSCRIPT.replace("Whatever.", f"Whatever. {CANARY} said so.")
    r = client.post(
        f"{client_url}/sessions",
        data={"csrf_token": csrf, "number": "1"},
        files={"transcript": (f"{CANARY}.txt", text.encode(), "text/plain")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert app.state.worker.drain() == 1
    with store.tx() as db:
        user = repo.user_by_name(db, "alice")
        assert user is not None
        user.totp_secret_enc = store.keys.encrypt_text(f"{CANARY}SECRET", "users.totp_secret")
    page = client.get(r.headers["location"])
    assert CANARY in page.text  # the app shows it to the owner: it is stored, just sealed
    return app, client


def test_no_plaintext_in_database(backend: str, tmp_path: Path, pipeline: Any) -> None:
    app, _client = _plant(backend, tmp_path / "k.key", pipeline)
    store = app.state.store
    if backend.startswith("sqlite"):  # checkpoint: the main file holds the data too
        raw = store.engine.raw_connection()
        raw.cursor().execute("PRAGMA wal_checkpoint(FULL)")
        raw.close()
    raw = _raw_dump(backend, store.engine)
    assert b"alice" in raw and b"session.read" in raw  # control: the dump does see rows
    assert _leaks(raw) == []
    store.close()


def test_rotation_reencrypts_everything(backend: str, tmp_path: Path, pipeline: Any) -> None:
    key_file = tmp_path / "k.key"
    app, _client = _plant(backend, key_file, pipeline)
    store = app.state.store
    old_id = store.keys.current_id
    result = rotate_key(store.engine, key_file)
    assert result.old_ids == [old_id] and result.new_id != old_id and result.values >= 6
    new_keys = crypto.load_keyring(key_file, env={})
    assert new_keys.ids == [result.new_id]  # the old key is gone from the file
    with store.engine.connect() as conn:
        for table, column in encrypted_columns():
            for (blob,) in conn.execute(sa.text(f"SELECT {column} FROM {table}")):
                if blob is not None:
                    assert crypto.Keyring.blob_key_id(bytes(blob)) == result.new_id
    assert _leaks(_raw_dump(backend, store.engine)) == []
    store.close()
    # a fresh app with the rotated key file reads everything back
    app2 = make_app(backend, key_file, pipeline)
    with app2.state.store.tx() as db:
        clients = repo.clients_of(db, app2.state.store.keys, {1})
        assert [c.pseudonym for c in clients] == [f"Robin {CANARY}"]
        assert CANARY in (repo.session_result(db, app2.state.store.keys, 1) or "")
    app2.state.store.close()


def test_key_file_created_private(tmp_path: Path) -> None:
    key_file = tmp_path / "sub" / "attunement.key"
    keys = crypto.load_keyring(key_file, env={})
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert crypto.load_keyring(key_file, env={}).current_id == keys.current_id


def test_env_key_wins_and_is_validated(tmp_path: Path) -> None:
    key = crypto.new_key()
    env = {"ATTUNEMENT_KEY": base64.b64encode(key).decode()}
    keys = crypto.load_keyring(tmp_path / "unused.key", env=env)
    assert keys.current_id == crypto.key_id(key)
    assert not (tmp_path / "unused.key").exists()
    with pytest.raises(crypto.CryptoError, match="32 bytes") as err:
        crypto.load_keyring(None, env={"ATTUNEMENT_KEY": base64.b64encode(b"short").decode()})
    assert err.value.where == "ATTUNEMENT_KEY"


def test_blob_is_bound_to_its_column_and_key() -> None:
    keys = crypto.Keyring([crypto.new_key()])
    blob = keys.encrypt_text("hello", "clients.pseudonym")
    assert keys.decrypt_text(blob, "clients.pseudonym") == "hello"
    with pytest.raises(crypto.CryptoError, match="failed authentication"):
        keys.decrypt(blob, "therapy_sessions.filename")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(crypto.CryptoError, match="failed authentication"):
        keys.decrypt(tampered, "clients.pseudonym")
    other = crypto.Keyring([crypto.new_key()])
    with pytest.raises(crypto.CryptoError, match="not loaded"):
        other.decrypt(blob, "clients.pseudonym")


def test_bad_key_file_names_line(tmp_path: Path) -> None:
    key_file = tmp_path / "k.key"
    key_file.write_text("# comment\nnot base64!!\n")
    with pytest.raises(crypto.CryptoError) as err:
        crypto.load_keyring(key_file, env={})
    assert err.value.where == "k.key, line 2"
    assert "not base64!!" not in str(err.value)


def test_wrong_key_refused_at_start(backend: str, tmp_path: Path) -> None:
    from attunement.store.db import Store

    store = Store.open(backend, tmp_path / "a.key")
    with store.tx() as db:
        user = repo.create_user(db, "alice", "therapist", "h")
        repo.create_client(db, store.keys, therapist_id=user.id, pseudonym="Robin")
    store.close()
    with pytest.raises(crypto.CryptoError, match="not hold") as err:
        Store.open(backend, tmp_path / "another.key")
    assert err.value.where == "clients.pseudonym_enc"
