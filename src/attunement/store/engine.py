"""The database engine and migrations.

SQLite is the default (a file beside the key file); PostgreSQL is used when the URL says
``postgresql://…`` (driven by psycopg 3). SQLite connections get ``journal_mode=WAL``,
``foreign_keys=ON`` and a busy timeout on connect, and every transaction starts with
``BEGIN IMMEDIATE`` (SQLite has one writer; nearly every request writes an audit row).
The schema is owned by the Alembic migrations shipped in ``attunement/store/migrations``;
:func:`migrate` brings a database to the newest revision (``attune serve`` does this on
start-up).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from attunement.errors import AttunementError

if TYPE_CHECKING:
    from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")
#: connections kept open, and how many more may be opened under load. The app lets at
#: most ``Settings.max_active_requests`` requests use the database at once (default 8),
#: plus the analysis worker and the reminder loop: the pool must never be what they wait
#: for, or requests holding a connection wait for threads held by requests waiting for a
#: connection (a stall until the pool's 30 s timeout).
POOL_SIZE = 10
POOL_OVERFLOW = 10


class DatabaseError(AttunementError):
    """The database cannot be opened, reached or migrated."""


def normalize_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` → the psycopg 3 driver; a bare path → SQLite."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    return url


def make_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event

    url = normalize_url(url)
    if url.startswith("sqlite"):
        if url not in ("sqlite://", "sqlite:///:memory:"):
            Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 15},
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # the driver must not open transactions itself: "begin" below does, IMMEDIATE,
            # so that concurrent writers queue on the busy timeout instead of failing
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.execute("PRAGMA secure_delete=ON")  # deleted rows are zeroed, not left free
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql"):
        return create_engine(
            url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
        )
    raise DatabaseError("unsupported database URL: use sqlite:///FILE or postgresql://…")


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` (idempotent)."""
    from alembic import command
    from sqlalchemy.exc import OperationalError

    try:
        command.upgrade(_alembic_config(engine), revision)
    except OperationalError as exc:
        raise DatabaseError(
            f"cannot migrate the database ({type(exc.orig).__name__})", where="database"
        ) from None


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        rev: str | None = MigrationContext.configure(conn).get_current_revision()
        return rev
