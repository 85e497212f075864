"""Sign-in sessions and account lock-out (the SQL side; the policy is in ``web``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from attunement.store.tables import LoginSession, User, aware, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: how often ``last_seen`` is written (a write per request would be wasteful)
TOUCH_SECONDS = 30


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start(db: Session, user_id: int, stage: str) -> tuple[str, LoginSession]:
    """A new session; the token (for the cookie) is returned once and stored hashed."""
    token = secrets.token_urlsafe(32)
    row = LoginSession(
        token_hash=_hash(token),
        user_id=user_id,
        stage=stage,
        csrf_token=secrets.token_urlsafe(32),
        created_at=utcnow(),
        last_seen=utcnow(),
    )
    db.add(row)
    db.flush()
    return token, row


def find(db: Session, token: str, idle_minutes: int) -> tuple[LoginSession, User] | None:
    """The live session for ``token`` and its (active) user; expired sessions are deleted."""
    row = db.scalars(select(LoginSession).where(LoginSession.token_hash == _hash(token))).first()
    if row is None:
        return None
    now = utcnow()
    user = db.get(User, row.user_id)
    idle = now - aware(row.last_seen) > dt.timedelta(minutes=idle_minutes)
    if idle or user is None or not user.active:
        db.delete(row)
        return None
    if (now - aware(row.last_seen)).total_seconds() > TOUCH_SECONDS:
        row.last_seen = now
    return row, user


def end(db: Session, token: str) -> None:
    db.execute(delete(LoginSession).where(LoginSession.token_hash == _hash(token)))


def end_all(db: Session, user_id: int) -> None:
    db.execute(delete(LoginSession).where(LoginSession.user_id == user_id))


def is_locked(user: User) -> bool:
    return user.locked_until is not None and aware(user.locked_until) > utcnow()


def failed(db: Session, user: User, max_failures: int, lockout_minutes: int) -> bool:
    """Count a failed attempt; True if the account is now locked."""
    user.failed_logins += 1
    if user.failed_logins >= max_failures:
        user.locked_until = utcnow() + dt.timedelta(minutes=lockout_minutes)
        user.failed_logins = 0
        return True
    return False


def succeeded(user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None


def end_others(db: Session, user_id: int, keep_id: int) -> int:
    """End every sign-in session of ``user_id`` except ``keep_id``; how many were ended."""
    result = db.execute(
        delete(LoginSession).where(LoginSession.user_id == user_id, LoginSession.id != keep_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def set_password(db: Session, user: User, password_hash: str, *, temporary: bool) -> None:
    """Store a new password hash. ``temporary`` (an admin reset): the user must choose a
    new one at the next sign-in, and the lock-out is lifted. Either way every sign-in
    session of the user ends (the caller starts a fresh one when it should continue)."""
    user.password_hash = password_hash
    user.must_change_password = temporary
    succeeded(user)
    end_all(db, user.id)
