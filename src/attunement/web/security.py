"""Passwords, TOTP, session tokens, CSRF tokens and sign-in throttling.

* Passwords: argon2id (argon2-cffi defaults: t=3, m=64 MiB, p=4), re-hashed when the
  parameters change. Unknown user names are checked against a dummy hash so a response's
  timing does not tell whether a user exists.
* TOTP: RFC 6238 (pyotp), 30 s steps, one step of clock drift accepted; each code is
  accepted once (the last used step is stored per user).
* Session tokens: 32 random bytes in the cookie; only their SHA-256 is stored.
* CSRF: a per-session random token in every form (and the ``X-CSRF-Token`` header for
  JSON writes), compared in constant time; before sign-in a double-submit cookie.
* Throttling: failed attempts per client address in memory (sliding 5 minutes); per
  account, ``max_failures`` in a row lock the account for ``lockout_minutes``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_PASSWORD = 10
MAX_PASSWORD = 256


_PARAMS: dict[str, int] = {}


@cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher, Type

    if not _PARAMS:
        return PasswordHasher(type=Type.ID)
    return PasswordHasher(
        time_cost=_PARAMS["time_cost"],
        memory_cost=_PARAMS["memory_cost"],
        parallelism=_PARAMS["parallelism"],
        type=Type.ID,
    )


def set_hash_cost(time_cost: int, memory_kib: int, parallelism: int) -> None:
    """Change the argon2id cost (tests use a cheap one; stored hashes keep verifying and
    are re-hashed at the next sign-in)."""
    _PARAMS.update(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    _hasher.cache_clear()
    _dummy_hash.cache_clear()


@cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"must be at most {MAX_PASSWORD} characters"
    return None


def temporary_password() -> str:
    """A one-time password for an admin reset: 96 random bits, 16 URL-safe characters."""
    return secrets.token_urlsafe(12)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher().check_needs_rehash(stored)


def new_totp_secret() -> str:
    import pyotp

    return pyotp.random_base32()


def totp_uri(secret: str, username: str, issuer: str = "Attunement") -> str:
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def is_totp_secret(secret: str) -> bool:
    """A base32 secret of 16-64 characters, a whole number of 8-character blocks."""
    return 16 <= len(secret) <= 64 and len(secret) % 8 == 0 and set(secret) <= BASE32


def totp_step(secret: str, code: str, after: int = -1) -> int | None:
    """The 30-second step a valid ``code`` belongs to (now ±1 step), or None. A step
    not later than ``after`` (the last one used) is refused: a code works once."""
    import pyotp

    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(dt.datetime.now(dt.UTC))
    for step in (now - 1, now, now + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_totp(secret: str, code: str) -> bool:
    return totp_step(secret, code) is not None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class Throttle:
    """Failed attempts per key (client address) within a sliding window."""

    def __init__(self, limit: int, window_seconds: float = 300.0) -> None:
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._trim(key, time.monotonic())) >= self.limit

    def fail(self, key: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._trim(key, now).append(now)
            if len(self._hits) > 10_000:  # bound memory under a spray of addresses
                for k in [k for k, v in self._hits.items() if not v][:5000]:
                    del self._hits[k]
