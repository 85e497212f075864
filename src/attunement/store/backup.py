"""Encrypted logical backups: ``attune backup`` / ``attune restore``.

A backup is every table's rows *as stored* (``_enc`` columns stay the store's
ciphertext), the Alembic revision and the audit log's head, as a stream of JSON lines —
encrypted once more as a whole, so that not even the table names, user names or dates
are readable without the key. File layout (:mod:`attunement.store.backup_stream`)::

    header  = b"ATTBAK01" | key id (8 ASCII hex) | salt (16 bytes)
    frame*  = length (4 bytes, big-endian; top bit set on the last frame) | ciphertext

Each frame is AES-256-GCM over at most 1 MiB of the stream, with a file
key derived by HKDF-SHA256 from the store's current key and the salt; the nonce is the
frame's number and the associated data the header and the last-frame flag, so a changed,
reordered, dropped or appended frame, or a cut after any frame, fails authentication.

Restore goes only into an empty database: the whole file is authenticated first (nothing
is touched before), then the schema is migrated to the backup's revision, the rows are
inserted in foreign-key order in one transaction, the audit chain is verified against
the head in the backup and one value of every encrypted column is opened with the key
file; only then is it committed and the schema migrated to the newest revision. On any
failure the transaction is rolled back and the tables it created are dropped again.
Both directions stream: memory stays at a few frames and one batch of rows.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attunement.errors import AttunementError
from attunement.store.backup_stream import (
    BackupError,
    Sealer,
    decoder,
    encode,
    json_lines,
    open_frames,
)
from attunement.store.crypto import Keyring, read_key_file

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, MetaData, Table

__all__ = ["BackupError", "Summary", "backup", "restore"]

BATCH = 500
FORMAT = "attunement-backup/1"
SKIP = ("alembic_version",)


@dataclass(frozen=True)
class Summary:
    tables: int
    rows: int
    revision: str | None
    audit_seq: int


# --- backup -------------------------------------------------------------------------


def _reflect(conn: Connection) -> MetaData:
    from sqlalchemy import MetaData

    meta = MetaData()
    meta.reflect(conn)
    return meta


def _current_key(key_file: Path) -> bytes:
    return read_key_file(key_file)[-1]


def _dump(conn: Connection, sealer: Sealer) -> Summary:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import select

    from attunement.store import audit
    from attunement.store.tables import AuditHead

    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None:
        raise BackupError("the database has no schema yet", where="database")
    meta = _reflect(conn)
    tables = [t for t in meta.sorted_tables if t.name not in SKIP]
    head = conn.execute(select(AuditHead.seq, AuditHead.hash)).first()
    seq, hash_ = (int(head[0]), str(head[1])) if head else (0, audit.GENESIS)

    def emit(obj: Any) -> None:
        sealer.write(json.dumps(obj, separators=(",", ":")).encode("utf-8") + b"\n")

    emit(
        {
            "format": FORMAT,
            "revision": revision,
            "audit_head": {"seq": seq, "hash": hash_},
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "source": conn.dialect.name,
            "tables": [t.name for t in tables],
        }
    )
    total = 0
    for table in tables:
        columns = [c.name for c in table.columns]
        emit({"table": table.name, "columns": columns})
        order = list(table.primary_key.columns) or list(table.columns)
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
            select(table).order_by(*order)
        )
        n = 0
        for row in result:
            emit([encode(v) for v in row])
            n += 1
        emit({"end_table": table.name, "rows": n})
        total += n
    emit({"end": True, "tables": len(tables), "rows": total})
    return Summary(len(tables), total, revision, seq)


def backup(engine: Engine, key_file: Path, out: Path) -> Summary:
    """Write the encrypted backup to ``out`` atomically (a temp file beside it, 0600)."""
    from sqlalchemy.exc import SQLAlchemyError

    key = _current_key(key_file)
    out = out.expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".attbak-", dir=out.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            sealer = Sealer(handle, key)
            conn_opts: dict[str, Any] = {}
            if engine.dialect.name == "postgresql":
                conn_opts["isolation_level"] = "REPEATABLE READ"  # one consistent snapshot
            try:
                with engine.connect() as conn, conn.execution_options(**conn_opts).begin():
                    summary = _dump(conn, sealer)
            except SQLAlchemyError as exc:
                raise BackupError(
                    f"cannot read the database ({type(exc).__name__})", where="database"
                ) from None
            sealer.close()
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return summary


# --- restore ------------------------------------------------------------------------


@dataclass
class _Table:
    name: str
    columns: list[str]
    rows: int = 0


def _verify_file(path: Path, keys: list[bytes]) -> dict[str, Any]:
    """Authenticate every frame and check the stream's structure; the header line."""
    with path.open("rb") as f:
        lines = json_lines(open_frames(f, keys))
        try:
            header = next(lines)
        except StopIteration:
            raise BackupError("the backup file is empty", where="backup") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise BackupError("unknown backup format", where="backup")
        tables, total, current, ended = 0, 0, None, False
        for line in lines:
            if isinstance(line, list):
                if current is None:
                    raise BackupError("the backup file is damaged (row outside a table)")
                current.rows += 1
            elif "table" in line:
                current = _Table(line["table"], line["columns"])
            elif "end_table" in line:
                if current is None or current.rows != line["rows"]:
                    raise BackupError("the backup file is damaged (row count)", where="backup")
                tables, total, current = tables + 1, total + current.rows, None
            elif line.get("end"):
                ended = line["rows"] == total and line["tables"] == tables
        if not ended:
            raise BackupError("the backup file is incomplete", where="backup")
    return dict(header)


def _is_empty(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return not inspect(engine).get_table_names()


def _drop_created(engine: Engine) -> None:
    """Undo the schema a failed restore created in the (previously empty) database."""
    with engine.begin() as conn:
        meta = _reflect(conn)
        meta.drop_all(conn)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS audit_log_append_only() CASCADE")


def _insert(conn: Connection, path: Path, keys: list[bytes]) -> int:
    from sqlalchemy import delete

    meta = _reflect(conn)
    decode = decoder(conn.dialect.name == "sqlite")
    total = 0
    with path.open("rb") as f:
        lines = json_lines(open_frames(f, keys))
        next(lines)  # the header, checked already
        table: Table | None = None
        columns: list[str] = []
        batch: list[dict[str, Any]] = []
        for line in lines:
            if isinstance(line, list):
                batch.append(dict(zip(columns, map(decode, line), strict=True)))
                if len(batch) >= BATCH and table is not None:
                    conn.execute(table.insert(), batch)
                    total, batch = total + len(batch), []
            elif "table" in line:
                if line["table"] not in meta.tables:
                    raise BackupError("a table of the backup is not in the schema")
                table, columns = meta.tables[line["table"]], line["columns"]
                if table.name != "audit_log":  # rows seeded by the migrations
                    conn.execute(delete(table))
            elif "end_table" in line and batch and table is not None:
                conn.execute(table.insert(), batch)
                total, batch = total + len(batch), []
    if conn.dialect.name == "postgresql":
        _reset_sequences(conn, meta)
    return total


def _reset_sequences(conn: Connection, meta: MetaData) -> None:
    """Rows came with their ids: move each id sequence past the largest one."""
    from sqlalchemy import text

    for table in meta.sorted_tables:
        for col in table.primary_key.columns:
            seq = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": col.name}
            ).scalar()
            if seq:
                conn.execute(
                    text(
                        f'SELECT setval(:s, COALESCE((SELECT MAX("{col.name}") '
                        f'FROM "{table.name}"), 0) + 1, false)'
                    ),
                    {"s": seq},
                )


def _check(conn: Connection, header: dict[str, Any], keys: list[bytes]) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from attunement.store import audit
    from attunement.store.rotate import context_of

    with Session(bind=conn) as db:
        found = audit.verify(db)
        head = audit.head(db)
    if not found.ok:
        raise BackupError(f"the audit chain does not verify ({found.problem})", where="audit")
    want = header["audit_head"]
    if head != (want["seq"], want["hash"]):
        raise BackupError("the audit head differs from the backup's", where="audit")
    ring = Keyring(keys)
    for table in _reflect(conn).sorted_tables:
        for col in table.columns:
            if not col.name.endswith("_enc"):
                continue
            blob = conn.execute(select(col).where(col.is_not(None)).limit(1)).scalar()
            if blob is not None:
                ring.decrypt(bytes(blob), context_of(table.name, col.name))


def _known_revision(revision: object) -> None:
    from alembic.script import ScriptDirectory

    from attunement.store.engine import MIGRATIONS

    script = ScriptDirectory(str(MIGRATIONS))
    known = {r.revision for r in script.walk_revisions()}
    if revision not in known:
        raise BackupError(
            "the backup's schema revision is unknown to this version (made by a newer one?)",
            where="backup",
        )


def restore(engine: Engine, key_file: Path, path: Path) -> Summary:
    """Restore ``path`` into the empty database of ``engine`` (see the module notes)."""
    from sqlalchemy.exc import SQLAlchemyError

    from attunement.store.engine import migrate

    keys = read_key_file(key_file)
    if not path.is_file():
        raise BackupError("file not found", where="backup")
    header = _verify_file(path, keys)
    _known_revision(header.get("revision"))
    try:
        if not _is_empty(engine):
            raise BackupError("restore needs an empty database; this one has tables")
    except SQLAlchemyError as exc:
        raise BackupError(f"cannot open the database ({type(exc).__name__})") from None
    try:
        migrate(engine, header["revision"])
        with engine.begin() as conn:
            rows = _insert(conn, path, keys)
            _check(conn, header, keys)
    except BaseException as exc:
        _drop_created(engine)
        if isinstance(exc, SQLAlchemyError):
            raise BackupError(
                f"cannot restore into this database ({type(exc).__name__})", where="database"
            ) from None
        if isinstance(exc, AttunementError) and not isinstance(exc, BackupError):
            raise BackupError(f"restore refused: {exc}") from None
        raise
    migrate(engine)
    return Summary(len(header["tables"]), rows, header["revision"], header["audit_head"]["seq"])
