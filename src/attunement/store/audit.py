"""The audit log: who did what to which object, when — append-only and hash-chained.

Each row's ``hash`` is SHA-256 over the previous row's hash and this row's fields, and the
single ``audit_head`` row holds the last sequence number and hash. Changing, inserting or
deleting a row anywhere (including the tail) breaks the chain, which :func:`verify`
reports. Rows hold identifiers only (user names, numeric object ids, action names),
never clinical content. The app has no code path that updates or deletes audit rows, and
database triggers refuse both. Someone with write access to the database file can still
rebuild a consistent chain; export the head hash (``/admin/audit``) elsewhere to anchor it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from attunement.store.tables import AuditEntry, AuditHead, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

GENESIS = "0" * 64
_IDENT = re.compile(r"^[A-Za-z0-9._:@-]{0,64}$")


def _digest(prev: str, seq: int, at: dt.datetime, fields: dict[str, object]) -> str:
    body = json.dumps(
        {"prev": prev, "seq": seq, "at": _iso(at), **fields},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _iso(at: dt.datetime) -> str:
    # databases differ in whether they hand back tz-aware datetimes; hash UTC, seconds
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def _fields(e: AuditEntry) -> dict[str, object]:
    return {
        "actor_id": e.actor_id,
        "actor": e.actor,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "outcome": e.outcome,
    }


def _safe(value: str, name: str) -> str:
    if not _IDENT.match(value):
        raise ValueError(f"audit {name} must be an identifier")
    return value


def append(
    db: Session,
    *,
    actor_id: int | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int = "",
    outcome: str = "ok",
) -> AuditEntry:
    """Add one row inside the caller's transaction (so it commits with the change)."""
    head = db.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        db.add(head)
        db.flush()
    entry = AuditEntry(
        seq=head.seq + 1,
        at=utcnow(),
        actor_id=actor_id,
        actor=_safe(actor, "actor"),
        action=_safe(action, "action"),
        object_type=_safe(object_type, "object_type"),
        object_id=_safe(str(object_id), "object_id"),
        outcome=_safe(outcome, "outcome"),
        prev_hash=head.hash,
        hash="",
    )
    entry.hash = _digest(head.hash, entry.seq, entry.at, _fields(entry))
    db.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    db.flush()
    return entry


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    problem: str | None = None
    seq: int | None = None


def verify(db: Session, batch: int = 2000) -> Verification:
    """Walk the chain from the first row; the first broken link is reported."""
    prev, expected, checked = GENESIS, 1, 0
    last = 0
    while True:
        rows = db.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            break
        for e in rows:
            if e.seq != expected:
                return Verification(False, checked, "a row is missing", expected)
            if e.prev_hash != prev:
                return Verification(False, checked, "a row does not follow its predecessor", e.seq)
            if _digest(prev, e.seq, e.at, _fields(e)) != e.hash:
                return Verification(False, checked, "a row was changed", e.seq)
            prev, expected, checked, last = e.hash, e.seq + 1, checked + 1, e.seq
    head = db.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != last or head_hash != prev:
        return Verification(False, checked, "the log's last rows were removed", last + 1)
    return Verification(True, checked)


def recent(db: Session, limit: int = 200, before: int | None = None) -> list[AuditEntry]:
    q = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before is not None:
        q = q.where(AuditEntry.seq < before)
    return list(db.scalars(q).all())


def head(db: Session) -> tuple[int, str]:
    h = db.get(AuditHead, 1)
    return (h.seq, h.hash) if h else (0, GENESIS)


def entries_after(db: Session, seq: int, limit: int) -> list[AuditEntry]:
    q = select(AuditEntry).where(AuditEntry.seq > seq).order_by(AuditEntry.seq).limit(limit)
    return list(db.scalars(q).all())
