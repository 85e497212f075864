"""The store: one engine, one keyring, transactions as context managers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from attunement.store.crypto import Keyring, load_keyring
from attunement.store.engine import make_engine, migrate

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker


class Store:
    """Database access for the app and the worker. ``keys`` never touches the database."""

    def __init__(self, engine: Engine, keys: Keyring) -> None:
        from sqlalchemy.orm import sessionmaker

        self.engine = engine
        self.keys = keys
        self._factory: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, key_file: Path | None, *, upgrade: bool = True) -> Store:
        keys = load_keyring(key_file)
        engine = make_engine(url)
        if upgrade:
            migrate(engine)
        store = cls(engine, keys)
        store.check_keys()
        return store

    def check_keys(self) -> None:
        """Refuse to start with a key file that cannot open what is stored (a new key
        file created by mistake would otherwise show up as errors on every page)."""
        from sqlalchemy import select

        from attunement.store.crypto import CryptoError, Keyring
        from attunement.store.rotate import encrypted_columns
        from attunement.store.tables import Base

        loaded = set(self.keys.ids)
        with self.engine.connect() as conn:
            for table, column in encrypted_columns():
                col = Base.metadata.tables[table].c[column]
                blob = conn.execute(select(col).where(col.is_not(None)).limit(1)).scalar()
                if blob is not None and Keyring.blob_key_id(bytes(blob)) not in loaded:
                    raise CryptoError(
                        f"stored data is encrypted with key {Keyring.blob_key_id(bytes(blob))}, "
                        "which the key file or ATTUNEMENT_KEY does not hold",
                        where=f"{table}.{column}",
                    )

    @contextmanager
    def tx(self, commit_on: tuple[type[BaseException], ...] = ()) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any exception — except
        those in ``commit_on`` (a refused request keeps the audit row that records it)."""
        with self._factory() as db:
            db.begin()
            try:
                yield db
            except commit_on:
                db.commit()
                raise
            except BaseException:
                db.rollback()
                raise
            db.commit()

    def close(self) -> None:
        self.engine.dispose()
