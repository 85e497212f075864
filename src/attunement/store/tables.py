"""The database tables (SQLAlchemy 2, typed). Columns ending in ``_enc`` hold AES-GCM
blobs from :mod:`attunement.store.crypto`; everything else is non-clinical bookkeeping.

The schema itself is created by the Alembic migrations in ``migrations/versions``; these
classes must agree with them (``tests/store`` checks that a migrated database matches).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("admin", "therapist", "supervisor", "trainee")
JOB_STATES = ("queued", "running", "done", "failed")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def aware(t: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes: they are UTC."""
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    pass


class ClinicSettings(Base):
    __tablename__ = "clinic_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    idle_timeout_minutes: Mapped[int] = mapped_column(Integer, default=30)
    crisis_text: Mapped[str | None] = mapped_column(String(600), nullable=True)
    #: what is kept of a session once it is analyzed (``attunement.store.retention``)
    retention: Mapped[str] = mapped_column(String(24), default="keep")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: set by an admin's password reset (a temporary password): the next sign-in leads to
    #: the password change page and nowhere else until a new password is chosen (v0007)
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class SupervisorAssignment(Base):
    __tablename__ = "supervisor_assignments"
    __table_args__ = (UniqueConstraint("supervisor_id", "trainee_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class LoginSession(Base):
    """Server-side sign-in sessions; the cookie carries a token, the table its SHA-256."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(16))  # "password" (needs TOTP) or "full"
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    pseudonym_enc: Mapped[bytes] = mapped_column(LargeBinary)
    start_date: Mapped[dt.date | None] = mapped_column(nullable=True)
    history_neglect_or_abuse: Mapped[bool] = mapped_column(Boolean, default=False)
    fragile: Mapped[bool] = mapped_column(Boolean, default=False)
    sensitivity: Mapped[str] = mapped_column(String(8), default="normal")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: None: the clinic's default retention applies
    retention: Mapped[str | None] = mapped_column(String(24), nullable=True)


class TherapySession(Base):
    """One uploaded transcript and, once analyzed, the library's session JSON."""

    __tablename__ = "therapy_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    date: Mapped[dt.date | None] = mapped_column(nullable=True)
    filename_enc: Mapped[bytes] = mapped_column(LargeBinary)
    transcript_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    result_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    summary_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("therapy_sessions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(8), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[str] = mapped_column(String(64), default="")
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEntry(Base):
    """Append-only, hash-chained. Database triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last sequence number and hash, so a deleted tail is visible too."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class CheckLink(Base):
    """A single-use, expiring questionnaire link; only the token's SHA-256 is stored."""

    __tablename__ = "check_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    instrument: Mapped[str] = mapped_column(String(64))
    session_number: Mapped[int] = mapped_column(Integer)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_members.id", ondelete="CASCADE"), nullable=True
    )


class CheckResponse(Base):
    """One administration of one instrument: the answers as encrypted JSON."""

    __tablename__ = "check_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    link_id: Mapped[int | None] = mapped_column(
        ForeignKey("check_links.id", ondelete="SET NULL"), nullable=True
    )
    instrument: Mapped[str] = mapped_column(String(64))
    session_number: Mapped[int] = mapped_column(Integer)
    date: Mapped[dt.date] = mapped_column()
    answers_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_members.id", ondelete="CASCADE"), nullable=True
    )


class SafetyAlert(Base):
    """A risk item endorsed by a client; open until a clinician acknowledges it."""

    __tablename__ = "safety_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    response_id: Mapped[int] = mapped_column(ForeignKey("check_responses.id", ondelete="CASCADE"))
    instrument: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


# The tables of later migrations live in their own modules; importing them here registers
# them on Base.metadata, so the schema check, key rotation and key check see every table.
from attunement.store import (  # noqa: E402
    tables_cases,  # noqa: F401
    tables_schedule,  # noqa: F401
    tables_supervision,  # noqa: F401
)
