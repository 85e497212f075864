"""App settings: one typed object built on demand (never at import time).

Every setting has an environment variable; ``attune serve`` options override them.
``ATTUNEMENT_HOME`` (default ``~/.attunement``) holds the SQLite database and the key file
unless ``DATABASE_URL`` / ``ATTUNEMENT_KEY_FILE`` point elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from attunement.errors import AttunementError

MODELS = ("default", "fast")


@dataclass(frozen=True)
class Settings:
    database_url: str
    key_file: Path | None
    #: coding model for uploaded transcripts: "default" (as `attune analyze`) or "fast"
    model: str = "default"
    #: sign-out after this much inactivity; None: the clinic's setting (default 30)
    idle_minutes: int | None = None
    max_upload_mb: float = 20.0
    #: requests served at once (the others wait their turn in the event loop); must stay
    #: below the database pool (attunement.store.engine.POOL_SIZE)
    max_active_requests: int = 8
    start_worker: bool = True
    #: failed password attempts before an account is locked, and for how long
    max_failures: int = 5
    lockout_minutes: int = 15
    #: failed sign-ins per client address per 5 minutes before 429
    ip_failures: int = 20
    #: set the Secure flag on cookies even when the request looks like plain HTTP
    #: (use behind a TLS-terminating proxy); it is always set on https requests
    force_secure_cookies: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("ATTUNEMENT_HOME", "~/.attunement")).expanduser()
        key_file = env.get("ATTUNEMENT_KEY_FILE")
        settings = cls(
            database_url=env.get("DATABASE_URL") or f"sqlite:///{home / 'attunement.db'}",
            key_file=Path(key_file).expanduser() if key_file else home / "attunement.key",
            model=env.get("ATTUNEMENT_MODEL", "default"),
            idle_minutes=_int(env, "ATTUNEMENT_IDLE_MINUTES", None),
            force_secure_cookies=env.get("ATTUNEMENT_SECURE_COOKIES", "") in ("1", "true"),
        )
        values = {k: v for k, v in overrides.items() if v is not None}
        settings = replace(settings, **values)  # type: ignore[arg-type]
        if settings.model not in MODELS:
            raise AttunementError(f"must be one of {', '.join(MODELS)}", where="ATTUNEMENT_MODEL")
        return settings


def _int(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise AttunementError("must be a whole number", where=name) from None
    if value < 1:
        raise AttunementError("must be at least 1", where=name)
    return value
