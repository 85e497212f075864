"""The course alerts of many clients at once, for the caseload, computed only when needed.

Computing a client's course (``attunement.course`` via :func:`attunement.web.course.
client_course`) reads and parses every analyzed session: for a caseload of 40 clients
with 8 sessions of ~200 turns each that is about four seconds per page load. So the
alerts are kept in memory per client, with the client's fingerprint
(:func:`attunement.store.fingerprint.client_fingerprints`: every row the store holds
about the client, read without decrypting) at the time they were computed, and reused
only while the fingerprint is unchanged. Any new session, finished job, answer, edited
client detail or case member changes it, so there is no invalidation to forget at the
places that write; a cache miss only costs the computation.

The fingerprint is taken *before* the course is computed, in the same transaction, so a
change committed in between can only make a stored entry look older than it is (the next
load recomputes), never newer. The cache lives in this process only (nothing is written
to disk), holds alert texts and never client names, and keeps at most
:data:`MAX_CLIENTS` clients (least recently used dropped first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from attunement.store import fingerprint, repo

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from attunement.course.model import Alert
    from attunement.store.crypto import Keyring

MAX_CLIENTS = 5000

_Key = tuple[str, int]  # (database, client id)


class CourseAlertCache:
    """Alerts per (database, client), each with the fingerprint it was computed at."""

    def __init__(self, max_clients: int = MAX_CLIENTS) -> None:
        self.max_clients = max_clients
        self._items: OrderedDict[_Key, tuple[str, list[Alert]]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: _Key, print_: str) -> list[Alert] | None:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] != print_:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key: _Key, print_: str, alerts: list[Alert]) -> None:
        with self._lock:
            self._items[key] = (print_, alerts)
            self._items.move_to_end(key)
            while len(self._items) > self.max_clients:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


CACHE = CourseAlertCache()


def course_alerts(
    db: Session, keys: Keyring, clients: Sequence[repo.ClientView]
) -> dict[int, list[Alert]]:
    """client id → the course's alerts (empty while there is no course). The lists are
    shared with the cache: read them, do not change them."""
    from attunement.web.course import client_course

    bind = db.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    database = engine.url.render_as_string(hide_password=True)
    prints = fingerprint.client_fingerprints(db, [c.id for c in clients])
    out: dict[int, list[Alert]] = {}
    for client in clients:
        key = (database, client.id)
        alerts = CACHE.get(key, prints[client.id])
        if alerts is None:
            course = client_course(db, keys, client)
            alerts = list(course.alerts) if course is not None else []
            CACHE.put(key, prints[client.id], alerts)
        out[client.id] = alerts
    return out
