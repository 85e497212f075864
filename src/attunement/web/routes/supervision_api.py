"""The supervision JSON API: comments, code corrections and agreement (in the OpenAPI
document, under ``/api``). Same dependencies as the pages; writes need ``X-CSRF-Token``."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from attunement.store import repo
from attunement.store import supervision as sv
from attunement.store import supervision_codes as sc
from attunement.store.repo import InputError
from attunement.store.tables import User
from attunement.web.deps import (
    ApiWriteCtx,
    Clinician,
    CommentableSession,
    CorrectableSession,
    Ctx,
    ReadableSession,
)

#: the supervision module's one router (routes/supervision.py adds the pages to it)
router = APIRouter()
TAGS: list[str | Enum] = ["supervision"]


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=8000, description="The comment (stored encrypted).")
    utterance_id: str | None = Field(None, max_length=256, description="A turn it is about.")
    episode_id: str | None = Field(None, max_length=256, description="An episode it is about.")


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    utterance_id: str = Field(min_length=1, max_length=256)
    code: str = Field(min_length=1, max_length=64, description="A codebook code id.")
    decision: Literal["present", "absent"]


class CorrectionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    corrections: list[CorrectionIn] = Field(min_length=1, max_length=sv.MAX_DECISIONS)


class CorrectionOut(BaseModel):
    id: int
    session_id: int
    utterance_id: str
    code: str
    decision: str
    author: str
    author_role: str
    created_at: dt.datetime


class CorrectionsOut(BaseModel):
    corrections: list[CorrectionOut] = Field(description="Every decision, oldest first.")
    your_codes: dict[str, list[str]] = Field(
        description="Turns you reviewed → your codes (the model's with your decisions)."
    )


class CodeAgreementOut(BaseModel):
    code: str
    label: str
    n: int = Field(description="Reviewed turns of the code's role.")
    coder_count: int
    model_count: int
    both: int
    kappa: float | None = Field(description="Cohen's kappa; null when n < min_n or undefined.")
    positive_agreement: float | None
    enough: bool


class AgreementOut(BaseModel):
    therapist: str = Field(description="Whose sessions (a trainee, or yourself).")
    sessions: int
    utterances: int = Field(description="Turns you reviewed.")
    min_n: int
    codes: list[CodeAgreementOut]


def _agreement_over(ctx: Ctx, therapist_ids: set[int]) -> sc.Agreement:
    sessions = sv.reviewed_sessions(ctx.db, ctx.user.id, therapist_ids)
    for sid in sessions:
        ctx.audit("agreement.read", "session", sid)
    return sc.agreement(sv.codings_for(ctx.db, ctx.store.keys, sessions, ctx.user.id))


def agreement_groups(ctx: Ctx) -> list[tuple[User, sc.Agreement]]:
    """(whose sessions, the user's agreement with the model on them): per trainee for a
    supervisor, the user's own caseload otherwise."""
    if ctx.user.role == "supervisor":
        trainees = [ctx.db.get(User, t) for t in sorted(repo.trainee_ids(ctx.db, ctx.user.id))]
        groups = [(t, _agreement_over(ctx, {t.id})) for t in trainees if t is not None]
    else:
        groups = [(ctx.user, _agreement_over(ctx, {ctx.user.id}))]
    ctx.audit("agreement.read", "user", ctx.user.id)
    return groups


@router.get("/api/sessions/{session_id}/comments", response_model=list[sv.CommentView], tags=TAGS)
def api_comments(ctx: Clinician, session: ReadableSession) -> list[sv.CommentView]:
    ctx.audit("session_comments.read", "session", session.id)
    return sv.comments_of(ctx.db, ctx.store.keys, session.id)


@router.post(
    "/api/sessions/{session_id}/comments",
    response_model=sv.CommentView,
    status_code=201,
    tags=TAGS,
)
def api_add_comment(
    ctx: Clinician, _csrf: ApiWriteCtx, session: CommentableSession, body: CommentIn
) -> sv.CommentView:
    comment_id = sv.add_comment(
        ctx.db,
        ctx.store.keys,
        session_id=session.id,
        author_id=ctx.user.id,
        body=body.body,
        utterance_id=body.utterance_id,
        episode_id=body.episode_id,
    )
    ctx.audit("session_comment.create", "session_comment", comment_id)
    found = next(
        c for c in sv.comments_of(ctx.db, ctx.store.keys, session.id) if c.id == comment_id
    )
    return found


def _corrections(ctx: Ctx, session_id: int) -> CorrectionsOut:
    coding = sv.session_coding(ctx.db, ctx.store.keys, session_id, ctx.user.id)
    mine = {u: sorted(coding.coder[u]) for u in coding.reviewed} if coding else {}
    return CorrectionsOut(
        corrections=[CorrectionOut(**c.public()) for c in sv.corrections_of(ctx.db, [session_id])],
        your_codes=mine,
    )


@router.get("/api/sessions/{session_id}/corrections", response_model=CorrectionsOut, tags=TAGS)
def api_corrections(ctx: Clinician, session: ReadableSession) -> CorrectionsOut:
    ctx.audit("code_corrections.read", "session", session.id)
    return _corrections(ctx, session.id)


@router.post(
    "/api/sessions/{session_id}/corrections",
    response_model=CorrectionsOut,
    status_code=201,
    tags=TAGS,
)
def api_add_corrections(
    ctx: Clinician, _csrf: ApiWriteCtx, session: CorrectableSession, body: CorrectionsIn
) -> CorrectionsOut:
    found = sv.analysis(ctx.db, ctx.store.keys, session.id)
    if found is None:
        raise InputError("the analysis is not finished", where="session")
    decisions = [sv.Decision(c.utterance_id, c.code, c.decision) for c in body.corrections]
    sv.add_corrections(ctx.db, found, session_id=session.id, author=ctx.user, decisions=decisions)
    ctx.audit("code_correction.create", "session", session.id)
    return _corrections(ctx, session.id)


@router.get("/api/supervision/agreement", response_model=list[AgreementOut], tags=TAGS)
def api_agreement(ctx: Clinician) -> list[AgreementOut]:
    """Your codes against the model's on the turns you reviewed: per trainee for a
    supervisor, on your own sessions otherwise."""
    return [
        AgreementOut(
            therapist=who.username,
            sessions=agr.sessions,
            utterances=agr.utterances,
            min_n=agr.min_n,
            codes=[CodeAgreementOut(**c.public()) for c in agr.codes],
        )
        for who, agr in agreement_groups(ctx)
    ]
