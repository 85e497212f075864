"""Repository functions: users, assignments, clients and sessions.

Every function takes an open transaction (``Store.tx()``) and, where clinical values are
involved, the keyring; values are encrypted here on the way in and decrypted on the way
out, so callers only ever see plain Python values and the database only ciphertext.
Authorization is *not* decided here (see ``attunement.web.permissions``): callers pass
the set of therapist ids whose clients the current user may see.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from attunement.errors import AttunementError
from attunement.store.tables import (
    ROLES,
    Client,
    ClinicSettings,
    Job,
    SupervisorAssignment,
    TherapySession,
    User,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from attunement.model import Session as LibrarySession
    from attunement.store.crypto import Keyring

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,63}$")
SENSITIVITY = ("low", "normal", "high")
MAX_PSEUDONYM = 80


class InputError(AttunementError):
    """A form or API field is missing or invalid (the message names the field only)."""


# --- users --------------------------------------------------------------------------


def check_username(username: str) -> str:
    if not USERNAME.match(username):
        raise InputError(
            "use 3-64 lower-case letters, digits, '.', '_' or '-', starting with a letter",
            where="username",
        )
    return username


def create_user(
    db: Session, username: str, role: str, password_hash: str, totp_secret_enc: bytes | None = None
) -> User:
    check_username(username)
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}", where="role")
    if user_by_name(db, username) is not None:
        raise InputError("a user with this name exists", where="username")
    user = User(
        username=username,
        role=role,
        password_hash=password_hash,
        totp_secret_enc=totp_secret_enc,
        active=True,
        failed_logins=0,
    )
    db.add(user)
    db.flush()
    return user


def user_by_name(db: Session, username: str) -> User | None:
    return db.scalars(select(User).where(User.username == username)).first()


def list_users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username)).all())


def assign_trainee(db: Session, supervisor: User, trainee: User) -> None:
    if supervisor.role != "supervisor":
        raise InputError("must be a supervisor", where="supervisor")
    if trainee.role != "trainee":
        raise InputError("must be a trainee", where="trainee")
    exists = db.scalars(
        select(SupervisorAssignment).where(
            SupervisorAssignment.supervisor_id == supervisor.id,
            SupervisorAssignment.trainee_id == trainee.id,
        )
    ).first()
    if exists is None:
        db.add(SupervisorAssignment(supervisor_id=supervisor.id, trainee_id=trainee.id))
        db.flush()


def trainee_ids(db: Session, supervisor_id: int) -> set[int]:
    rows = db.scalars(
        select(SupervisorAssignment.trainee_id).where(
            SupervisorAssignment.supervisor_id == supervisor_id
        )
    )
    return set(rows.all())


def assignments(db: Session) -> list[tuple[int, int]]:
    rows = db.execute(select(SupervisorAssignment.supervisor_id, SupervisorAssignment.trainee_id))
    return [(s, t) for s, t in rows.all()]


def clinic_settings(db: Session) -> ClinicSettings:
    settings = db.get(ClinicSettings, 1)
    if settings is None:
        settings = ClinicSettings(id=1, name="Clinic", idle_timeout_minutes=30)
        db.add(settings)
        db.flush()
    return settings


# --- clients ------------------------------------------------------------------------


@dataclass
class ClientView:
    id: int
    therapist_id: int
    pseudonym: str
    start_date: dt.date | None
    history_neglect_or_abuse: bool
    fragile: bool
    sensitivity: str

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "therapist_id": self.therapist_id,
            "pseudonym": self.pseudonym,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "history_neglect_or_abuse": self.history_neglect_or_abuse,
            "fragile": self.fragile,
            "sensitivity": self.sensitivity,
        }


def check_name(value: str, field: str, limit: int) -> str:
    """A one-line name (pseudonym, label): whitespace collapsed, required, bounded."""
    text = " ".join(value.split())
    if not text:
        raise InputError("is required", where=field)
    if len(text) > limit:
        raise InputError(f"at most {limit} characters", where=field)
    if any(not ch.isprintable() for ch in text):
        # control characters, and lone surrogates (not printable either)
        raise InputError("contains control or invalid characters", where=field)
    return text


def check_pseudonym(pseudonym: str) -> str:
    return check_name(pseudonym, "pseudonym", MAX_PSEUDONYM)


def create_client(
    db: Session,
    keys: Keyring,
    *,
    therapist_id: int,
    pseudonym: str,
    start_date: dt.date | None = None,
    history_neglect_or_abuse: bool = False,
    fragile: bool = False,
    sensitivity: str = "normal",
) -> ClientView:
    text = check_pseudonym(pseudonym)
    if sensitivity not in SENSITIVITY:
        raise InputError(f"must be one of {', '.join(SENSITIVITY)}", where="sensitivity")
    row = Client(
        therapist_id=therapist_id,
        pseudonym_enc=keys.encrypt_text(text, "clients.pseudonym"),
        start_date=start_date,
        history_neglect_or_abuse=history_neglect_or_abuse,
        fragile=fragile,
        sensitivity=sensitivity,
    )
    db.add(row)
    db.flush()
    return _client_view(keys, row)


def _client_view(keys: Keyring, c: Client) -> ClientView:
    return ClientView(
        id=c.id,
        therapist_id=c.therapist_id,
        pseudonym=keys.decrypt_text(c.pseudonym_enc, "clients.pseudonym"),
        start_date=c.start_date,
        history_neglect_or_abuse=c.history_neglect_or_abuse,
        fragile=c.fragile,
        sensitivity=c.sensitivity,
    )


def get_client(db: Session, keys: Keyring, client_id: int) -> ClientView | None:
    row = db.get(Client, client_id)
    return _client_view(keys, row) if row else None


def client_owner(db: Session, client_id: int) -> int | None:
    """The owning therapist's id, without decrypting anything (for permission checks)."""
    return db.scalar(select(Client.therapist_id).where(Client.id == client_id))


def clients_of(db: Session, keys: Keyring, therapist_ids: Collection[int]) -> list[ClientView]:
    if not therapist_ids:
        return []
    rows = db.scalars(
        select(Client).where(Client.therapist_id.in_(list(therapist_ids))).order_by(Client.id)
    ).all()
    return [_client_view(keys, r) for r in rows]


# --- sessions -----------------------------------------------------------------------


@dataclass
class SessionView:
    id: int
    client_id: int
    number: int | None
    date: dt.date | None
    filename: str
    created_at: dt.datetime
    job_id: int | None = None
    job_status: str | None = None
    job_progress: int = 0
    job_step: str = ""
    job_error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_id": self.client_id,
            "number": self.number,
            "date": self.date.isoformat() if self.date else None,
            "filename": self.filename,
            "status": self.job_status,
            "progress": self.job_progress,
            "error": self.job_error,
            "summary": self.summary,
        }


def add_session(
    db: Session,
    keys: Keyring,
    *,
    client_id: int,
    uploaded_by: int,
    filename: str,
    data: bytes,
    number: int | None = None,
    date: dt.date | None = None,
) -> tuple[int, int]:
    """Store the transcript encrypted and queue its analysis: (session id, job id)."""
    row = TherapySession(
        client_id=client_id,
        uploaded_by=uploaded_by,
        number=number,
        date=date,
        filename_enc=keys.encrypt_text(filename, "therapy_sessions.filename"),
        transcript_enc=keys.encrypt(data, "therapy_sessions.transcript"),
    )
    db.add(row)
    db.flush()
    job = Job(session_id=row.id, status="queued", progress=0, step="", attempts=0)
    db.add(job)
    db.flush()
    return row.id, job.id


def _latest_job(db: Session, session_id: int) -> Job | None:
    return _latest_jobs(db, [session_id]).get(session_id)


def _latest_jobs(db: Session, session_ids: Collection[int]) -> dict[int, Job]:
    """The newest job of each session, in one query."""
    from sqlalchemy import func

    if not session_ids:
        return {}
    newest = (
        select(func.max(Job.id))
        .where(Job.session_id.in_(list(session_ids)))
        .group_by(Job.session_id)
        .scalar_subquery()
    )
    return {j.session_id: j for j in db.scalars(select(Job).where(Job.id.in_(newest)))}


def _session_view(keys: Keyring, s: TherapySession, job: Job | None) -> SessionView:
    """``job``: the session's latest job."""
    summary = (
        json.loads(keys.decrypt_text(s.summary_enc, "therapy_sessions.summary"))
        if s.summary_enc
        else {}
    )
    return SessionView(
        id=s.id,
        client_id=s.client_id,
        number=s.number,
        date=s.date,
        filename=keys.decrypt_text(s.filename_enc, "therapy_sessions.filename"),
        created_at=s.created_at,
        job_id=job.id if job else None,
        job_status=job.status if job else None,
        job_progress=job.progress if job else 0,
        job_step=job.step if job else "",
        job_error=job.error if job else None,
        summary=summary,
    )


def sessions_of(db: Session, keys: Keyring, client_id: int) -> list[SessionView]:
    return sessions_of_many(db, keys, [client_id]).get(client_id, [])


def sessions_of_many(
    db: Session, keys: Keyring, client_ids: Collection[int]
) -> dict[int, list[SessionView]]:
    """Sessions per client (oldest first) in two queries, without loading the transcripts
    and analysis results (a caseload needs only the summaries)."""
    from sqlalchemy.orm import defer

    if not client_ids:
        return {}
    rows = db.scalars(
        select(TherapySession)
        .where(TherapySession.client_id.in_(list(client_ids)))
        .options(defer(TherapySession.transcript_enc), defer(TherapySession.result_enc))
        .order_by(TherapySession.id)
    ).all()
    jobs = _latest_jobs(db, [r.id for r in rows])
    out: dict[int, list[SessionView]] = {c: [] for c in client_ids}
    for r in rows:
        out[r.client_id].append(_session_view(keys, r, jobs.get(r.id)))
    return out


def get_session(db: Session, keys: Keyring, session_id: int) -> SessionView | None:
    row = db.get(TherapySession, session_id)
    return _session_view(keys, row, _latest_job(db, row.id)) if row else None


def session_client(db: Session, session_id: int) -> int | None:
    return db.scalar(select(TherapySession.client_id).where(TherapySession.id == session_id))


def session_result(db: Session, keys: Keyring, session_id: int) -> str | None:
    """The library's session JSON (decrypted), or None before analysis finished."""
    row = db.get(TherapySession, session_id)
    if row is None or row.result_enc is None:
        return None
    return keys.decrypt_text(row.result_enc, "therapy_sessions.result")


def session_analysis(db: Session, keys: Keyring, session_id: int) -> LibrarySession | None:
    """The stored analysis parsed (the library's ``Session``), or None before it finished."""
    text = session_result(db, keys, session_id)
    return parse_analysis(text) if text is not None else None


#: analyses up to this size (characters of JSON) are kept parsed in memory, 32 at most
CACHE_TEXT_MAX = 2_000_000


def parse_analysis(text: str) -> LibrarySession:
    """Parse a stored session JSON, once per distinct text for the usual sizes (a review
    page reads it for the review and again for the supervision panel; the same session is
    opened by many users). The parsed object is shared between requests: read-only."""
    if len(text) > CACHE_TEXT_MAX:
        return _parse(text)
    return _parse_cached(text)


def _parse(text: str) -> LibrarySession:
    from attunement.model import Session as LibrarySession

    return LibrarySession.model_validate_json(text)


_parse_cached = lru_cache(maxsize=32)(_parse)


def job_session(db: Session, job_id: int) -> int | None:
    return db.scalar(select(Job.session_id).where(Job.id == job_id))


# --- deletion -----------------------------------------------------------------------


def delete_client(db: Session, client_id: int) -> bool:
    """Delete a client and, through ``ON DELETE CASCADE``, everything of theirs: sessions
    (transcripts, results), jobs, check links, answers, alerts and the rows of later
    features keyed to the client. False when there was no such client."""
    from sqlalchemy import delete

    done = db.execute(delete(Client).where(Client.id == client_id))
    return getattr(done, "rowcount", 0) == 1


def flush_deleted(engine: Any) -> None:
    """After a deletion is committed, on SQLite: move the (zeroed, ``secure_delete``)
    pages into the database file and truncate the write-ahead log, which still holds
    the old page images. Best effort: a checkpoint waits for no reader. PostgreSQL keeps
    dead rows until VACUUM (autovacuum; they are ciphertext in any case)."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()  # outside a transaction: a checkpoint cannot run in one
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.close()
    finally:
        raw.close()
