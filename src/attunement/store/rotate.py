"""Key rotation: add a new key, re-encrypt every stored value with it, retire the old.

Order matters for crash safety: (1) the new key is appended to the key file (old keys
kept, so every row still decrypts); (2) all rows are re-encrypted in one transaction;
(3) only after that commit are the old keys removed from the file. A crash at any point
leaves a database whose every value decrypts with the keys in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from attunement.store.crypto import (
    CryptoError,
    Keyring,
    key_id,
    new_key,
    read_key_file,
    write_key_file,
)
from attunement.store.tables import Base

if TYPE_CHECKING:
    from sqlalchemy import Engine


def encrypted_columns() -> list[tuple[str, str]]:
    """(table, column) of every ``*_enc`` column in the schema."""
    return [
        (t.name, c.name)
        for t in Base.metadata.sorted_tables
        for c in t.columns
        if c.name.endswith("_enc")
    ]


def context_of(table: str, column: str) -> str:
    return f"{table}.{column.removesuffix('_enc')}"


@dataclass(frozen=True)
class Rotation:
    old_ids: list[str]
    new_id: str
    values: int


def reencrypt(engine: Engine, old: Keyring, new: Keyring) -> int:
    """Re-seal every encrypted value with ``new``'s current key; the count of values."""
    count = 0
    with engine.begin() as conn:
        for table_name, column in encrypted_columns():
            table = Base.metadata.tables[table_name]
            pk = next(iter(table.primary_key.columns))
            col = table.c[column]
            ctx = context_of(table_name, column)
            for row_id, blob in conn.execute(select(pk, col).where(col.is_not(None))).all():
                sealed = new.encrypt(old.decrypt(blob, ctx), ctx)
                conn.execute(update(table).where(pk == row_id).values({column: sealed}))
                count += 1
    return count


def rotate_key(engine: Engine, key_file: Path) -> Rotation:
    if not key_file.exists():
        raise CryptoError("key file not found", where=key_file.name)
    old_keys = read_key_file(key_file)
    fresh = new_key()
    write_key_file(key_file, [*old_keys, fresh])
    values = reencrypt(engine, Keyring([*old_keys, fresh]), Keyring([fresh]))
    write_key_file(key_file, [fresh])
    return Rotation([key_id(k) for k in old_keys], key_id(fresh), values)
