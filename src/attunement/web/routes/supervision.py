"""Supervision pages: the comments and code review on a session page, the agreement views
(``/sessions/{id}/agreement``, ``/supervision``) and the training-data download.

Comments and corrections are written by the owning therapist or trainee and by the
trainee's assigned supervisor (:func:`attunement.web.permissions.can_comment_session`);
every reader of the session sees them. A correction form shows every correctable code of
the turn's role, ticked as the user's codes stand (the model's until they change them);
submitting it records a decision for each of those codes, so the turn counts as reviewed
by that user. The numbers come from :mod:`attunement.store.supervision`, which asks the
library for kappa; nothing is scored here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from attunement.model import Session
from attunement.store import repo
from attunement.store import supervision as sv
from attunement.store import supervision_codes as sc
from attunement.store.repo import InputError
from attunement.store.tables import User
from attunement.web import permissions
from attunement.web.caseload import caseload
from attunement.web.deps import (
    Clinician,
    CommentableSession,
    CorrectableSession,
    Ctx,
    ExportableClient,
    FormCtx,
    ReadableSession,
)
from attunement.web.panels import client_panel, session_panel
from attunement.web.render import page
from attunement.web.routes.supervision_api import agreement_groups, router

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as DbSession

__all__ = ["router"]

FAMILY_TITLE = {
    "withdrawal": "Withdrawal markers",
    "confrontation": "Confrontation markers",
    "client_flag": "Client flags",
    "resolution": "Repair moves",
    "failure": "Empathic failures",
}


@dataclass(frozen=True)
class CodeBox:
    code: str
    label: str
    model: bool
    checked: bool


@dataclass(frozen=True)
class ReviewTurn:
    id: str
    at: str
    speaker: str
    role: str
    quote: str
    model: list[str]  # labels
    mine: list[str]
    reviewed: bool
    families: list[tuple[str, list[CodeBox]]]


def _families(role: str, model: set[str], mine: set[str]) -> list[tuple[str, list[CodeBox]]]:
    from attunement.model import default_codebook

    cb = default_codebook()
    out: list[tuple[str, list[CodeBox]]] = []
    for family, title in FAMILY_TITLE.items():
        boxes = [
            CodeBox(c.id, c.label, c.id in model, c.id in mine)
            for c in cb.code
            if c.family == family and c.role == role
        ]
        if boxes:
            out.append((title, boxes))
    return out


def _label(code: str) -> str:
    from attunement.report.view import code_label

    return code_label(code)


def review_turns(coding: sc.Coding) -> list[ReviewTurn]:
    """The turns to show with a correction form: every turn the model coded with a
    correctable code, and every turn the user reviewed, in session order."""
    from attunement.report.view import shorten

    reviewed = set(coding.reviewed)
    out = []
    for u in coding.session.utterances:
        model, mine = coding.model[u.id], coding.coder[u.id]
        if not model and u.id not in reviewed:
            continue
        out.append(
            ReviewTurn(
                id=u.id,
                at=u.timestamp() or u.id,
                speaker=u.speaker,
                role=u.role.value,
                quote=shorten(u.text, 90),
                model=[_label(c) for c in sc.correctable_codes(u.role.value) if c in model],
                mine=[_label(c) for c in sc.correctable_codes(u.role.value) if c in mine],
                reviewed=u.id in reviewed,
                families=_families(u.role.value, model, mine),
            )
        )
    return out


def _turn_choices(session: Session, role: str) -> list[tuple[str, str]]:
    from attunement.report.view import shorten

    return [
        (u.id, f"{u.timestamp() or u.id} · {u.speaker}: {shorten(u.text, 50)}")
        for u in session.utterances
        if u.role.value == role
    ]


@session_panel("supervision")
def supervision_panel(ctx: Ctx, session: repo.SessionView) -> dict[str, Any]:
    """Comments and, for those who may correct codes, the code review forms."""
    comments = sv.comments_of(ctx.db, ctx.store.keys, session.id)
    ctx.audit("session_comments.read", "session", session.id)
    coding = sv.session_coding(ctx.db, ctx.store.keys, session.id, ctx.user.id)
    if coding is None:
        return {}
    can_correct = permissions.can_correct_session(ctx.db, ctx.user, session.id)
    about = [
        (f"u:{u.id}", f"turn {u.timestamp() or u.id} · {u.speaker}")
        for u in coding.session.utterances
        if coding.model[u.id]
    ]
    about += [(f"e:{e.id}", f"{e.kind} rupture episode {e.id}") for e in coding.session.episodes]
    return {
        "comments": comments,
        "can_comment": permissions.can_comment_session(ctx.db, ctx.user, session.id),
        "can_correct": can_correct,
        "about": about,
        "turns": review_turns(coding) if can_correct else [],
        "reviewed": len(coding.reviewed),
        "others": {
            role: (_turn_choices(coding.session, role), _families(role, set(), set()))
            for role in ("client", "therapist")
        }
        if can_correct
        else {},
    }


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.post("/sessions/{session_id}/comments", include_in_schema=False)
def post_comment(
    ctx: Clinician,
    _csrf: FormCtx,
    session: CommentableSession,
    body: Annotated[str, Form(max_length=8000)] = "",
    about: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    kind, _, ident = about.partition(":")
    comment_id = sv.add_comment(
        ctx.db,
        ctx.store.keys,
        session_id=session.id,
        author_id=ctx.user.id,
        body=body,
        utterance_id=ident if kind == "u" else None,
        episode_id=ident if kind == "e" else None,
    )
    ctx.audit("session_comment.create", "session_comment", comment_id)
    return _redirect(f"/sessions/{session.id}#comments")


@router.post("/sessions/{session_id}/corrections", include_in_schema=False)
def post_corrections(
    ctx: Clinician,
    _csrf: FormCtx,
    session: CorrectableSession,
    utterance_id: Annotated[str, Form(max_length=256)] = "",
    codes: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006 (FastAPI form default)
) -> Response:
    found = sv.analysis(ctx.db, ctx.store.keys, session.id)
    if found is None:
        raise InputError("the analysis is not finished", where="session")
    role = next((u.role.value for u in found.utterances if u.id == utterance_id), None)
    if role is None:
        raise InputError("not a turn of this session", where="utterance")
    allowed = sc.correctable_codes(role)
    if any(c not in allowed for c in codes):
        raise InputError(f"not a correctable code for a {role} turn", where="code")
    decisions = [
        sv.Decision(utterance_id, c, "present" if c in codes else "absent") for c in allowed
    ]
    sv.add_corrections(ctx.db, found, session_id=session.id, author=ctx.user, decisions=decisions)
    ctx.audit("code_correction.create", "session", session.id)
    return _redirect(f"/sessions/{session.id}#review-{utterance_id}")


@dataclass(frozen=True)
class CoderChanges:
    coder: str
    role: str
    turns: list[tuple[str, str, str, list[str], list[str]]]  # id, at, quote, added, removed


def _changes(db: DbSession, session_id: int, found: Session) -> list[CoderChanges]:
    from attunement.report.view import shorten

    out = []
    for author_id, name in sv.correction_authors(db, [session_id]):
        decisions = sv.latest_decisions(db, session_id, author_id)
        coding = sc.apply_decisions(session_id, found, decisions)
        turns = []
        for uid in coding.reviewed:
            u = found.utterance(uid)
            added, removed = coding.changes(uid)
            turns.append(
                (
                    uid,
                    u.timestamp() or uid,
                    shorten(u.text, 70),
                    [_label(c) for c in sorted(added)],
                    [_label(c) for c in sorted(removed)],
                )
            )
        author = db.get(User, author_id)
        out.append(CoderChanges(name, author.role if author else "", turns))
    return out


@router.get("/sessions/{session_id}/agreement", include_in_schema=False)
def session_agreement(request: Request, ctx: Clinician, session: ReadableSession) -> Response:
    client = repo.get_client(ctx.db, ctx.store.keys, session.client_id)
    found = sv.analysis(ctx.db, ctx.store.keys, session.id)
    if found is None:
        return _redirect(f"/sessions/{session.id}")
    coding = sc.apply_decisions(
        session.id, found, sv.latest_decisions(ctx.db, session.id, ctx.user.id)
    )
    ctx.audit("code_corrections.read", "session", session.id)
    return page(
        request,
        "session_agreement.html",
        ctx,
        session=session,
        client=client,
        agreement=sc.agreement([coding]),
        coders=_changes(ctx.db, session.id, found),
        can_export=permissions.can_export_corrections(ctx.db, ctx.user, session.client_id),
    )


@dataclass(frozen=True)
class TraineeView:
    id: int
    username: str
    rows: list[Any]
    reviewed_sessions: int
    agreement: sc.Agreement


@router.get("/supervision", include_in_schema=False)
def supervision_page(request: Request, ctx: Clinician) -> Response:
    trainees = []
    if ctx.user.role == "supervisor":
        for tid in sorted(repo.trainee_ids(ctx.db, ctx.user.id)):
            ctx.audit("caseload.read", "user", tid)
    groups = agreement_groups(ctx)  # audited last: "agreement.read" of this user
    if ctx.user.role == "supervisor":
        for trainee, agr in groups:
            rows = caseload(ctx.db, ctx.store.keys, {trainee.id})
            trainees.append(TraineeView(trainee.id, trainee.username, rows, agr.sessions, agr))
    return page(
        request,
        "supervision.html",
        ctx,
        trainees=trainees,
        own=groups[0][1] if ctx.user.role != "supervisor" else None,
    )


@router.get("/clients/{client_id}/corrections.jsonl", include_in_schema=False)
def export_corrections(
    ctx: Clinician,
    client: ExportableClient,
    coder: Annotated[str, Query(max_length=64)] = "",
    all_turns: Annotated[bool, Query(alias="all")] = False,
) -> Response:
    """Training data for ``attune train --data``: the reviewed turns (``all=true``: every
    turn of the reviewed sessions) with the coder's codes."""
    done = [
        s.id for s in repo.sessions_of(ctx.db, ctx.store.keys, client.id) if s.job_status == "done"
    ]
    authors = dict((name, uid) for uid, name in sv.correction_authors(ctx.db, done))
    name = coder or ctx.user.username
    if name not in authors:
        raise InputError("no reviewed turns by this coder on this client", where="coder")
    sessions = [
        sid
        for sid in sv.reviewed_sessions(ctx.db, authors[name], {client.therapist_id})
        if sid in done
    ]
    codings = sv.codings_for(ctx.db, ctx.store.keys, sessions, authors[name])
    records = sc.training_records(codings, annotator=name, all_utterances=all_turns)
    ctx.audit("corrections.export", "client", client.id)
    return Response(
        sc.to_jsonl(records),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="codes-client-{client.id}.jsonl"'},
    )


@client_panel("supervision")
def corrections_panel(ctx: Ctx, client: repo.ClientView) -> dict[str, Any]:
    """Who reviewed codes on this client's sessions, with the training-data downloads."""
    if not permissions.can_export_corrections(ctx.db, ctx.user, client.id):
        return {}
    done = [
        s.id for s in repo.sessions_of(ctx.db, ctx.store.keys, client.id) if s.job_status == "done"
    ]
    return {"coders": sv.review_counts(ctx.db, done)}
