"""`attune serve --help`, `attune add-user`, `attune rotate-key`: thin commands whose
errors are one line and exit code 2."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from attunement.cli.main import main
from attunement.store import repo
from attunement.store.db import Store


def test_serve_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--host", "--port", "--database-url", "--key-file", "--fast", "--demo"):
        assert option in out


def _add(monkeypatch: pytest.MonkeyPatch, argv: list[str], password: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["add-user", *argv, "--password-stdin"])


def test_add_user_and_rotate(
    backend: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("ATTUNEMENT_KEY", raising=False)
    key = tmp_path / "k.key"
    common = ["--database-url", backend, "--key-file", str(key)]
    assert _add(monkeypatch, ["root", "--role", "admin", *common], "a long password") == 0
    out = capsys.readouterr().out
    assert "created admin root" in out and "otpauth://totp/" in out
    assert _add(monkeypatch, ["alice", "--role", "therapist", *common], "a long password") == 0
    assert "otpauth" not in capsys.readouterr().out
    # errors: one line, exit 2, nothing echoed
    assert _add(monkeypatch, ["bob", "--role", "therapist", *common], "short") == 2
    assert capsys.readouterr().err.strip() == (
        "attune: error: password: must be at least 10 characters"
    )
    assert _add(monkeypatch, ["alice", "--role", "therapist", *common], "a long password") == 2
    assert "username: a user with this name exists" in capsys.readouterr().err
    store = Store.open(backend, key)
    with store.tx() as db:
        root = repo.user_by_name(db, "root")
        assert root is not None and root.totp_secret_enc is not None
        old = store.keys.current_id
    store.close()
    assert main(["rotate-key", *common]) == 0
    assert f"retired {old}" in capsys.readouterr().out
    store = Store.open(backend, key)
    with store.tx() as db:
        root = repo.user_by_name(db, "root")
        assert root is not None and root.totp_secret_enc is not None
        assert len(store.keys.decrypt_text(root.totp_secret_enc, "users.totp_secret")) >= 16
    store.close()


def test_bad_database_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["rotate-key", "--database-url", "mysql://x@y/z", "--key-file", str(tmp_path / "k")]
    assert main(argv) == 2
    assert "unsupported database URL" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ATTUNEMENT_MODEL", "huge", "ATTUNEMENT_MODEL: must be one of default, fast"),
        ("ATTUNEMENT_IDLE_MINUTES", "soon", "ATTUNEMENT_IDLE_MINUTES: must be a whole number"),
        ("ATTUNEMENT_IDLE_MINUTES", "0", "ATTUNEMENT_IDLE_MINUTES: must be at least 1"),
    ],
)
def test_bad_setting_is_one_line(
    name: str,
    value: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("ATTUNEMENT_HOME", str(tmp_path))
    assert main(["serve", "--port", "65000"]) == 2
    assert capsys.readouterr().err.strip() == f"attune: error: {message}"
    assert list(tmp_path.iterdir()) == []  # nothing created before the settings are valid
