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
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import LargeBinary, Select, String, Table, bindparam, cast, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from attunement.store.crypto import HEADER_LEN
from attunement.store.tables import Base

if TYPE_CHECKING:
    from sqlalchemy import Column, ColumnElement
    from sqlalchemy.orm import Session


def _row_text(table: Table, hex_: Any) -> ColumnElement[Any]:
    """One text per row, computed by the database: every column as text (NULL as an
    empty field), encrypted columns as their length and hex header."""
    parts: list[ColumnElement[Any]] = []
    for col in table.columns:
        if isinstance(col.type, LargeBinary) and col.name.endswith("_enc"):
            value: ColumnElement[Any] = func.coalesce(
                cast(func.length(col), String)
                + literal(":")
                + hex_(func.substr(col, 1, HEADER_LEN)),
                literal("~"),
            )
        else:
            value = func.coalesce(cast(col, String), literal("~"))
        parts += [value, literal("\x1f")]
    out = parts[0]
    for p in parts[1:]:
        out = out + p
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
    """client id → hex SHA-256 over the client's rows (see the module docstring).

    The database concatenates each client's rows of a table into one text (ordered by
    primary key), so Python handles one short row per client and table."""
    ids = sorted(set(client_ids))
    if not ids:
        return {}
    digests = {cid: hashlib.sha256() for cid in ids}
    postgres = db.get_bind().dialect.name == "postgresql"
    for name, stmt in _statements(postgres):
        for cid in ids:
            digests[cid].update(f"\x1e{name}\x1f".encode())
        for cid, n, text in db.execute(stmt, {"ids": ids}):
            digests[int(cid)].update(f"{n}\x1d{text}".encode("utf-8", "replace"))
    return {cid: d.hexdigest() for cid, d in digests.items()}


@cache
def _statements(postgres: bool) -> list[tuple[str, Select[Any]]]:
    """(table name, the statement giving (client id, row count, rows' text)) per linked
    table; built once per dialect (building them costs more than running them)."""

    def hex_(blob: Any) -> ColumnElement[Any]:
        return func.encode(blob, literal("hex")) if postgres else func.hex(blob)

    ids: Any = bindparam("ids", expanding=True)
    out = []
    for table, col, parent, parent_client in _links():
        key: ColumnElement[Any] = col if parent is None else parent_client  # type: ignore[assignment]
        order = next(iter(table.primary_key.columns))
        inner = select(key.label("cid"), order.label("ord"), _row_text(table, hex_).label("row"))
        if parent is not None:
            pk = next(iter(parent.primary_key.columns))
            inner = inner.join(parent, col == pk)
        inner = inner.where(key.in_(ids))
        if postgres:  # the rows in primary-key order inside each client's text
            rows = inner.subquery()
            agg = func.string_agg(rows.c.row, aggregate_order_by(literal("\x1e"), rows.c.ord))
        else:  # SQLite concatenates in the order of the (ordered) subquery
            rows = inner.order_by(key, order).subquery()
            agg = func.group_concat(rows.c.row, literal("\x1e"))
        out.append((table.name, select(rows.c.cid, func.count(), agg).group_by(rows.c.cid)))
    return out
