"""A fingerprint per client of everything the store holds about them, without decrypting.

Used to cache what is computed from a client's data (the course alerts on the caseload,
:mod:`attunement.web.course_cache`): the cached value is reused only while the
fingerprint is unchanged.

What goes in, found from the table definitions rather than listed by hand, so a table
added later is covered without touching this module:

* the client's row in ``clients``;
* every row of every table with a foreign key to ``clients`` (sessions, answers, links,
  safety alerts, case members, appointments, …);
* every row of a table whose foreign key points at one of those (a session's jobs, its
  comments, …).

Each row contributes all its columns, in primary-key order, so an insert, an update or
a delete changes the fingerprint. Encrypted columns (``*_enc``) contribute their length
and blob header — the key id and the 12-byte random nonce that every encryption draws
afresh (:mod:`attunement.store.crypto`) — instead of the whole blob: a value that was
written again has a new nonce, so this is as exact as hashing the ciphertext and reads a
few bytes instead of a whole analysis. (A re-encryption with unchanged content, e.g. key
rotation, changes the fingerprint too: a needless recomputation, never a stale value.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from sqlalchemy import LargeBinary, Table, func, select

from attunement.store.crypto import HEADER_LEN
from attunement.store.tables import Base

if TYPE_CHECKING:
    from sqlalchemy import Column, ColumnElement
    from sqlalchemy.orm import Session


def _columns(table: Table) -> list[ColumnElement[Any]]:
    out: list[ColumnElement[Any]] = []
    for col in table.columns:
        if isinstance(col.type, LargeBinary) and col.name.endswith("_enc"):
            out += [func.length(col), func.substr(col, 1, HEADER_LEN)]
        else:
            out.append(col)
    return out


def _links() -> list[tuple[Table, Column[Any], Table | None, Column[Any] | None]]:
    """(table, its column naming the client or the parent row, parent, parent's client
    column) for the clients table itself, direct children and grandchildren."""
    clients = Base.metadata.tables["clients"]
    links: list[tuple[Table, Column[Any], Table | None, Column[Any] | None]] = [
        (clients, clients.c.id, None, None)
    ]
    direct: dict[Table, Column[Any]] = {}
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is clients:
                direct[table] = fk.parent
    links += [(t, col, None, None) for t, col in direct.items()]
    for table in Base.metadata.sorted_tables:
        if table in direct or table is clients:
            continue
        for fk in table.foreign_keys:
            parent = fk.column.table
            if isinstance(parent, Table) and parent in direct:
                links.append((table, fk.parent, parent, direct[parent]))
    return links


def client_fingerprints(db: Session, client_ids: Collection[int]) -> dict[int, str]:
    """client id → hex SHA-256 over the client's rows (see the module docstring)."""
    ids = sorted(set(client_ids))
    digests = {cid: hashlib.sha256() for cid in ids}
    if not ids:
        return {}
    for table, col, parent, parent_client in _links():
        if parent is None:
            key: ColumnElement[Any] = col
            stmt = select(key, *_columns(table)).where(key.in_(ids))
        else:
            assert parent_client is not None
            pk = next(iter(parent.primary_key.columns))
            key = parent_client
            stmt = select(key, *_columns(table)).join(parent, col == pk).where(key.in_(ids))
        stmt = stmt.order_by(key, *table.primary_key.columns)
        for cid in ids:
            digests[cid].update(f"\x1e{table.name}\x1f".encode())
        for row in db.execute(stmt):
            values = tuple(bytes(v) if isinstance(v, memoryview) else v for v in row[1:])
            digests[int(row[0])].update(repr(values).encode("utf-8", "replace"))
    return {cid: d.hexdigest() for cid, d in digests.items()}
