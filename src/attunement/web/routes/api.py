"""The JSON API under ``/api`` (OpenAPI at ``/api/openapi.json``).

Same sign-in cookie and the same authorization dependencies as the pages; writes need
the session's CSRF token in ``X-CSRF-Token`` (``GET /api/me`` returns it). Response
models are explicit, so database rows never leak fields.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from attunement.store import audit, repo
from attunement.store.tables import Job
from attunement.web import permissions
from attunement.web.caseload import caseload
from attunement.web.deps import (
    Admin,
    ApiWriteCtx,
    Clinician,
    NotFound,
    ReadableClient,
    ReadableJob,
    ReadableSession,
    Signed,
    Writer,
)

router = APIRouter(prefix="/api", tags=["api"])


class Me(BaseModel):
    id: int
    username: str
    role: str
    totp_enabled: bool
    csrf_token: str


class ClientOut(BaseModel):
    id: int
    therapist_id: int
    pseudonym: str
    start_date: dt.date | None
    history_neglect_or_abuse: bool
    fragile: bool
    sensitivity: str


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pseudonym: str = Field(min_length=1, max_length=400)
    start_date: dt.date | None = None
    history_neglect_or_abuse: bool = False
    fragile: bool = False
    sensitivity: Literal["low", "normal", "high"] = "normal"


class CaseOut(BaseModel):
    client: ClientOut
    sessions: int
    latest_session_id: int | None
    reasons: list[str]
    level: str  # "urgent" | "attention" | "" (nothing needs attention)


class SessionOut(BaseModel):
    id: int
    client_id: int
    number: int | None
    date: dt.date | None
    filename: str
    status: str | None
    progress: int
    error: str | None
    summary: dict[str, Any]


class JobOut(BaseModel):
    id: int
    session_id: int
    status: str
    progress: int
    step: str
    error: str | None


class AuditCheck(BaseModel):
    ok: bool
    checked: int
    problem: str | None
    seq: int | None
    head_seq: int
    head_hash: str


@router.get("/me", response_model=Me)
def me(ctx: Signed) -> Me:
    return Me(
        id=ctx.user.id,
        username=ctx.user.username,
        role=ctx.user.role,
        totp_enabled=ctx.user.totp_secret_enc is not None,
        csrf_token=ctx.csrf,
    )


@router.get("/caseload", response_model=list[CaseOut])
def api_caseload(ctx: Clinician) -> list[dict[str, object]]:
    rows = caseload(ctx.db, ctx.store.keys, permissions.visible_therapists(ctx.db, ctx.user))
    ctx.audit("caseload.read", "user", ctx.user.id)
    return [r.public() for r in rows]


@router.post("/clients", response_model=ClientOut, status_code=201)
def api_create_client(ctx: Writer, _csrf: ApiWriteCtx, body: ClientIn) -> dict[str, Any]:
    client = repo.create_client(
        ctx.db, ctx.store.keys, therapist_id=ctx.user.id, **body.model_dump()
    )
    ctx.audit("client.create", "client", client.id)
    return client.public()


@router.get("/clients/{client_id}", response_model=ClientOut)
def api_client(ctx: Clinician, client: ReadableClient) -> dict[str, Any]:
    return client.public()


@router.get("/clients/{client_id}/sessions", response_model=list[SessionOut])
def api_client_sessions(ctx: Clinician, client: ReadableClient) -> list[dict[str, Any]]:
    return [s.public() for s in repo.sessions_of(ctx.db, ctx.store.keys, client.id)]


@router.get("/sessions/{session_id}", response_model=SessionOut)
def api_session(ctx: Clinician, session: ReadableSession) -> dict[str, Any]:
    return session.public()


@router.get("/sessions/{session_id}/analysis")
def api_session_analysis(ctx: Clinician, session: ReadableSession) -> dict[str, Any]:
    """The library's session JSON (schema ``attunement.session/1``) once analyzed."""
    result = repo.session_result(ctx.db, ctx.store.keys, session.id)
    if result is None:
        raise NotFound
    data: dict[str, Any] = json.loads(result)
    return data


class SafetyAlertOut(BaseModel):
    id: int
    instrument: str
    item: str
    created_at: dt.datetime

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        # stored in UTC; SQLite hands it back naive, and RFC 3339 needs the offset
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class CourseOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    safety_alerts: list[SafetyAlertOut] = Field(description="Open alerts, oldest first.")
    course: dict[str, Any] | None = Field(
        description="The library's client course (schema ``attunement.client/1``), or null "
        "before the client has answers or analyzed, numbered sessions."
    )


@router.get("/clients/{client_id}/course", response_model=CourseOut)
def api_client_course(ctx: Clinician, client: ReadableClient) -> CourseOut:
    """Open safety alerts and the course computed by ``attunement.course``."""
    from attunement.store import checks
    from attunement.web.course import client_course

    course = client_course(ctx.db, ctx.store.keys, client)
    return CourseOut(
        safety_alerts=[
            SafetyAlertOut(id=a.id, instrument=a.instrument, item=a.item, created_at=a.created_at)
            for a in checks.alerts_of(ctx.db, [client.id])
        ],
        course=course.model_dump(mode="json") if course is not None else None,
    )


@router.get("/jobs/{job_id}", response_model=JobOut)
def api_job(ctx: Clinician, job_id: ReadableJob) -> JobOut:
    job = ctx.db.get(Job, job_id)
    assert job is not None
    return JobOut(
        id=job.id,
        session_id=job.session_id,
        status=job.status,
        progress=job.progress,
        step=job.step,
        error=job.error,
    )


@router.get("/audit/verify", response_model=AuditCheck)
def api_audit_verify(ctx: Admin) -> AuditCheck:
    check = audit.verify(ctx.db)
    seq, digest = audit.head(ctx.db)
    ctx.audit("audit.verify", "audit", "")
    return AuditCheck(
        ok=check.ok,
        checked=check.checked,
        problem=check.problem,
        seq=check.seq,
        head_seq=seq,
        head_hash=digest,
    )
