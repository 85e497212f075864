"""Fixtures for the store and the clinic app, on SQLite and on the local PostgreSQL.

``backend`` gives a fresh, empty database URL per test: a SQLite file in ``tmp_path``, or
a throwaway PostgreSQL database ``attunement_test_<random>`` (created from a migrated
template, dropped afterwards). PostgreSQL tests are marked ``postgres`` and skip only
when the server at 127.0.0.1:5432 cannot be reached.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from clinic_helpers import World, build_world

from attunement.web import security

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture(autouse=True, scope="session")
def _cheap_hashes() -> None:
    # argon2id at its real cost takes ~0.5 s per sign-in on a loaded 2-core machine
    security.set_hash_cost(1, 8192, 1)


def _pg_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3):
            return True
    except Exception:
        return False


def _pg_exec(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated database to copy from; dropped at the end of the test session."""
    if not _pg_reachable():
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
    from attunement.store.engine import make_engine, migrate

    name = f"attunement_test_{secrets.token_hex(4)}"
    _pg_exec(f"CREATE DATABASE {name}")
    engine = make_engine(f"postgresql://postgres@127.0.0.1:5432/{name}")
    migrate(engine)
    engine.dispose()
    try:
        yield name
    finally:
        _pg_exec(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _new_url(kind: str, tmp: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'clinic.db'}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"attunement_test_{secrets.token_hex(4)}"
    _pg_exec(f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        _pg_exec(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from _new_url(request.param, tmp_path, request)


@pytest.fixture(scope="module", params=BACKENDS)
def module_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from _new_url(request.param, tmp_path_factory.mktemp("db"), request)


@pytest.fixture(scope="session")
def pipeline() -> Any:
    from attunement.store.worker import default_pipeline

    built = default_pipeline("fast")
    return lambda: built


@pytest.fixture(scope="module")
def world(
    module_backend: str, tmp_path_factory: pytest.TempPathFactory, pipeline: Any
) -> Iterator[World]:
    w = build_world(module_backend, tmp_path_factory.mktemp("keys") / "k.key", pipeline)
    yield w
    w.store.close()
