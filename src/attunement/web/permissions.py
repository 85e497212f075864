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


def can_delete_client(db: Session, user: User, client_id: int) -> bool:
    """Deleting a client with all their data: the owning therapist or trainee only."""
    return can_write_client(db, user, client_id)


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


def can_reset_password(user: User, target: User) -> bool:
    """An admin resets another active user's password (their own: the account page)."""
    return user.role in ADMIN and target.id != user.id and target.active


def can_comment_session(db: Session, user: User, session_id: int) -> bool:
    """Comments on a session review: the owning therapist or trainee, and the trainee's
    assigned supervisor (who may comment although otherwise read-only)."""
    client_id = repo.session_client(db, session_id)
    if client_id is None:
        return False
    owner = repo.client_owner(db, client_id)
    if user.role in CLINICAL_WRITE:
        return owner == user.id
    return user.role == "supervisor" and owner in repo.trainee_ids(db, user.id)


def can_correct_session(db: Session, user: User, session_id: int) -> bool:
    """Correcting codes: the same people as comments; a supervisor's corrections are the
    supervisor's own codes (each coder's decisions are kept apart)."""
    return can_comment_session(db, user, session_id)


def can_export_corrections(db: Session, user: User, client_id: int) -> bool:
    """Training data from a client's reviewed sessions: the owning therapist or trainee,
    and the trainee's supervisor."""
    return user.role in CLINICAL_READ and can_read_client(db, user, client_id)


def can_change_appointment(db: Session, user: User, appointment_id: int) -> bool:
    """Cancelling an appointment or marking it attended / missed: the client's owner."""
    from attunement.store import schedule

    client_id = schedule.appointment_client(db, appointment_id)
    return client_id is not None and can_write_client(db, user, client_id)


def can_change_member(db: Session, user: User, member_id: int) -> bool:
    """Deactivating a person in a couple/family/group case: the client's owner."""
    from attunement.store import cases

    client_id = cases.member_client(db, member_id)
    return client_id is not None and can_write_client(db, user, client_id)
