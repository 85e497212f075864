"""Supervision in the database: comments on session reviews and code corrections.

A *correction* is one coder's decision that a codebook code is present or absent on one
utterance of a stored analysis; the latest decision per (session, utterance, code,
author) counts, and each author's decisions are kept apart (a supervisor's corrections
are the supervisor's own codes). The utterance's text is never copied: a coder's codes
are rebuilt from the stored session JSON (:mod:`attunement.store.supervision_codes`,
which also holds agreement and the ``attune train`` records). Comment bodies are
encrypted. Only the binary codes are corrected (rupture markers, client flags, repair
moves, empathic failures); empathy levels and counselling behaviour are not. Nothing here
decides who may do what (:mod:`attunement.web.permissions` does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from attunement.model import Session
from attunement.store import repo
from attunement.store.repo import InputError
from attunement.store.supervision_codes import Coding, apply_decisions, correctable_codes
from attunement.store.tables import Client, TherapySession, User, aware
from attunement.store.tables_supervision import DECISIONS, CodeCorrection, SessionComment

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as DbSession

    from attunement.store.crypto import Keyring

MAX_COMMENT = 4000
MAX_DECISIONS = 500
COMMENT = "session_comments.body"


def analysis(db: DbSession, keys: Keyring, session_id: int) -> Session | None:
    """The stored analysis (the library's session), or None before it finished."""
    return repo.session_analysis(db, keys, session_id)


# --- comments -----------------------------------------------------------------------


@dataclass(frozen=True)
class CommentView:
    id: int
    session_id: int
    author: str
    author_role: str
    body: str
    utterance_id: str | None
    episode_id: str | None
    created_at: dt.datetime


def check_comment(body: str) -> str:
    text = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InputError("is required", where="comment")
    if len(text) > MAX_COMMENT:
        raise InputError(f"at most {MAX_COMMENT} characters", where="comment")
    if any(not (ch.isprintable() or ch in "\n\t") for ch in text):
        raise InputError("contains control or invalid characters", where="comment")
    return text


def add_comment(
    db: DbSession,
    keys: Keyring,
    *,
    session_id: int,
    author_id: int,
    body: str,
    utterance_id: str | None = None,
    episode_id: str | None = None,
) -> int:
    """Store a comment (encrypted); a turn or episode it is about must be in the analysis."""
    text = check_comment(body)
    utterance_id, episode_id = utterance_id or None, episode_id or None
    if utterance_id or episode_id:
        found = analysis(db, keys, session_id)
        if utterance_id and (found is None or utterance_id not in {u.id for u in found.utterances}):
            raise InputError("not a turn of this session", where="utterance")
        if episode_id and (found is None or episode_id not in {e.id for e in found.episodes}):
            raise InputError("not an episode of this session", where="episode")
    row = SessionComment(
        session_id=session_id,
        author_id=author_id,
        body_enc=keys.encrypt_text(text, COMMENT),
        utterance_id=utterance_id,
        episode_id=episode_id,
    )
    db.add(row)
    db.flush()
    return row.id


def comments_of(db: DbSession, keys: Keyring, session_id: int) -> list[CommentView]:
    rows = db.execute(
        select(SessionComment, User.username, User.role)
        .join(User, User.id == SessionComment.author_id)
        .where(SessionComment.session_id == session_id)
        .order_by(SessionComment.id)
    ).all()
    return [
        CommentView(
            id=c.id,
            session_id=c.session_id,
            author=name,
            author_role=role,
            body=keys.decrypt_text(c.body_enc, COMMENT),
            utterance_id=c.utterance_id,
            episode_id=c.episode_id,
            created_at=aware(c.created_at),
        )
        for c, name, role in rows
    ]


# --- corrections --------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    utterance_id: str
    code: str
    decision: str  # "present" | "absent"


@dataclass(frozen=True)
class CorrectionView:
    id: int
    session_id: int
    utterance_id: str
    code: str
    decision: str
    author: str
    author_role: str
    created_at: dt.datetime

    def public(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def add_corrections(
    db: DbSession, session: Session, *, session_id: int, author: User, decisions: Sequence[Decision]
) -> int:
    """Validate every decision against the analysis and the codebook, then store them all
    (or none). Errors name the field, never a value."""
    if not decisions:
        raise InputError("no decision given", where="corrections")
    if len(decisions) > MAX_DECISIONS:
        raise InputError(f"at most {MAX_DECISIONS} decisions at once", where="corrections")
    roles = {u.id: u.role.value for u in session.utterances}
    allowed = {role: set(correctable_codes(role)) for role in ("client", "therapist")}
    for d in decisions:
        role = roles.get(d.utterance_id)
        if role is None:
            raise InputError("not a turn of this session", where="utterance")
        if d.code not in allowed[role]:
            raise InputError(f"not a correctable code for a {role} turn", where="code")
        if d.decision not in DECISIONS:
            raise InputError("must be 'present' or 'absent'", where="decision")
    db.add_all(
        CodeCorrection(
            session_id=session_id,
            utterance_id=d.utterance_id,
            code=d.code,
            decision=d.decision,
            author_id=author.id,
            author_role=author.role,
        )
        for d in decisions
    )
    db.flush()
    return len(decisions)


def corrections_of(
    db: DbSession, session_ids: Collection[int], author_id: int | None = None
) -> list[CorrectionView]:
    """Every stored decision (oldest first) on these sessions, optionally by one author."""
    if not session_ids:
        return []
    q = (
        select(CodeCorrection, User.username)
        .join(User, User.id == CodeCorrection.author_id)
        .where(CodeCorrection.session_id.in_(list(session_ids)))
    )
    if author_id is not None:
        q = q.where(CodeCorrection.author_id == author_id)
    return [
        CorrectionView(
            id=c.id,
            session_id=c.session_id,
            utterance_id=c.utterance_id,
            code=c.code,
            decision=c.decision,
            author=name,
            author_role=c.author_role,
            created_at=aware(c.created_at),
        )
        for c, name in db.execute(q.order_by(CodeCorrection.id)).all()
    ]


def latest_decisions(db: DbSession, session_id: int, author_id: int) -> dict[str, dict[str, str]]:
    """utterance id → code → the author's latest decision on this session."""
    out: dict[str, dict[str, str]] = {}
    for c in corrections_of(db, [session_id], author_id):
        out.setdefault(c.utterance_id, {})[c.code] = c.decision
    return out


def correction_authors(db: DbSession, session_ids: Collection[int]) -> list[tuple[int, str]]:
    """(user id, user name) of everyone who corrected codes on these sessions."""
    if not session_ids:
        return []
    rows = db.execute(
        select(User.id, User.username)
        .join(CodeCorrection, CodeCorrection.author_id == User.id)
        .where(CodeCorrection.session_id.in_(list(session_ids)))
        .distinct()
        .order_by(User.username)
    ).all()
    return [(i, n) for i, n in rows]


@dataclass(frozen=True)
class ReviewCount:
    author_id: int
    author: str
    role: str
    sessions: int
    turns: int


def review_counts(db: DbSession, session_ids: Collection[int]) -> list[ReviewCount]:
    """Per coder: how many of these sessions and turns they reviewed (no content)."""
    if not session_ids:
        return []
    rows = db.execute(
        select(
            User.id,
            User.username,
            User.role,
            CodeCorrection.session_id,
            CodeCorrection.utterance_id,
        )
        .join(CodeCorrection, CodeCorrection.author_id == User.id)
        .where(CodeCorrection.session_id.in_(list(session_ids)))
        .distinct()
    ).all()
    seen: dict[tuple[int, str, str], set[tuple[int, str]]] = {}
    for uid, name, role, sid, utt in rows:
        seen.setdefault((uid, name, role), set()).add((sid, utt))
    return [
        ReviewCount(uid, name, role, len({s for s, _ in turns}), len(turns))
        for (uid, name, role), turns in sorted(seen.items(), key=lambda kv: kv[0][1])
    ]


def reviewed_sessions(db: DbSession, author_id: int, therapist_ids: Collection[int]) -> list[int]:
    """Sessions of the clients of ``therapist_ids`` on which ``author_id`` decided codes."""
    if not therapist_ids:
        return []
    rows = db.scalars(
        select(CodeCorrection.session_id)
        .join(TherapySession, TherapySession.id == CodeCorrection.session_id)
        .join(Client, Client.id == TherapySession.client_id)
        .where(CodeCorrection.author_id == author_id, Client.therapist_id.in_(list(therapist_ids)))
        .distinct()
    ).all()
    return sorted(rows)


def session_coding(db: DbSession, keys: Keyring, session_id: int, coder_id: int) -> Coding | None:
    """``coder_id``'s codes on one session (None before the analysis finished)."""
    found = analysis(db, keys, session_id)
    if found is None:
        return None
    return apply_decisions(session_id, found, latest_decisions(db, session_id, coder_id))


def codings_for(
    db: DbSession, keys: Keyring, session_ids: Iterable[int], coder_id: int
) -> list[Coding]:
    found = (session_coding(db, keys, sid, coder_id) for sid in session_ids)
    return [c for c in found if c is not None]
