"""`attune backup` and `attune restore`: encrypted logical backups of the clinic store.

Thin: the work is done by :mod:`attunement.store.backup`. A backup holds every row as
stored (encrypted columns stay encrypted) and is encrypted again as a whole with the
key file's current key; restore goes into an empty database only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from attunement.cli.serve import DB_HELP, _need_web

if TYPE_CHECKING:
    from sqlalchemy import Engine

KEY_HELP = (
    "Key file (default: ~/.attunement/attunement.key). Backup seals with its current key; "
    "restore needs the key the backup names and the keys of the stored data."
)


def _settings(database_url: str | None, key_file: Path | None) -> tuple[str, Path]:
    from attunement.errors import AttunementError
    from attunement.web.settings import Settings

    settings = Settings.from_env(database_url=database_url, key_file=key_file)
    if settings.key_file is None or not settings.key_file.exists():
        raise AttunementError("key file not found", where="--key-file")
    return settings.database_url, settings.key_file


def _run(
    verb: Callable[[Engine, Path, Path], Any],
    path: Path,
    database_url: str | None,
    key_file: Path | None,
) -> Any:
    """Open the database named by the options, run ``backup`` or ``restore`` on it."""
    _need_web()
    from attunement.store.engine import make_engine

    url, keys = _settings(database_url, key_file)
    engine = make_engine(url)
    try:
        return verb(engine, keys, path)
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    @app.command("backup")
    def backup_cmd(
        out: Path = typer.Argument(..., help="The backup file to write (e.g. clinic.attbak)."),
        database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
        key_file: Path | None = typer.Option(None, "--key-file", help=KEY_HELP),
    ) -> None:
        """Write an encrypted backup of the clinic database (atomically, mode 0600)."""
        _need_web()
        from attunement.store.backup import backup

        done = _run(backup, out, database_url, key_file)
        typer.echo(
            f"backed up {done.rows} rows of {done.tables} tables (schema {done.revision}, "
            f"audit log to entry {done.audit_seq}) to {out.name}"
        )

    @app.command("restore")
    def restore_cmd(
        backup_file: Path = typer.Argument(..., help="The backup file to restore."),
        database_url: str | None = typer.Option(None, "--database-url", help=DB_HELP),
        key_file: Path | None = typer.Option(None, "--key-file", help=KEY_HELP),
    ) -> None:
        """Restore a backup into an empty database (SQLite or PostgreSQL), then migrate it."""
        _need_web()
        from attunement.store.backup import restore

        done = _run(restore, backup_file, database_url, key_file)
        typer.echo(
            f"restored {done.rows} rows of {done.tables} tables (schema {done.revision}, "
            f"audit log verified to entry {done.audit_seq}); migrated to the newest schema"
        )
