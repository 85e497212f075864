"""Who may see and change what — the one place the app decides it.

* **therapist**, **trainee**: their own clients (read and write: add clients, upload).
* **supervisor**: read-only, the clients of the trainees assigned to them; nothing else.
* **admin**: users, supervisor assignments, the audit log — and *no* clinical content
  (no client names, no transcripts, no analyses): least privilege; a clinic that wants
  an admin who also treats clients gives that person a second, therapist account.

An object outside the user's scope is reported as *not found*, so ids cannot be probed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from attunement.store import repo

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from attunement.store.tables import User

CLINICAL_READ = ("therapist", "trainee", "supervisor")
CLINICAL_WRITE = ("therapist", "trainee")
ADMIN = ("admin",)


def visible_therapists(db: Session, user: User) -> set[int]:
    """Ids of the users whose clients ``user`` may read."""
    if user.role in CLINICAL_WRITE:
        return {user.id}
    if user.role == "supervisor":
        return repo.trainee_ids(db, user.id)
    return set()


def can_read_client(db: Session, user: User, client_id: int) -> bool:
    owner = repo.client_owner(db, client_id)
    return owner is not None and owner in visible_therapists(db, user)


def can_write_client(db: Session, user: User, client_id: int) -> bool:
    return user.role in CLINICAL_WRITE and repo.client_owner(db, client_id) == user.id


def can_read_session(db: Session, user: User, session_id: int) -> bool:
    client_id = repo.session_client(db, session_id)
    return client_id is not None and can_read_client(db, user, client_id)


def can_act_on_alert(db: Session, user: User, alert_id: int) -> bool:
    """Acknowledging a safety alert: the client's own therapist or trainee."""
    from attunement.store import checks

    client_id = checks.alert_client(db, alert_id)
    return client_id is not None and can_write_client(db, user, client_id)


def can_read_job(db: Session, user: User, job_id: int) -> bool:
    session_id = repo.job_session(db, job_id)
    return session_id is not None and can_read_session(db, user, session_id)
