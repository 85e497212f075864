"""Tables for supervision (see the migration of the same name). Registered on
:class:`attunement.store.tables.Base` when :mod:`attunement.store.tables` is imported.

* ``session_comments``: a comment on a session review (optionally on one turn or one
  episode), by the owning clinician or the trainee's supervisor. The body is encrypted.
  Append-only from the app (no edit or delete route); deleting the client deletes them.
* ``code_corrections``: one coder's decision that a codebook code is present or absent on
  one utterance of a stored analysis. The latest row per (session, utterance, code,
  author) counts; the utterance's text is not copied (it stays in the stored analysis).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from attunement.store.tables import Base, utcnow

DECISIONS = ("present", "absent")

__all__ = ["DECISIONS", "CodeCorrection", "SessionComment"]


class SessionComment(Base):
    __tablename__ = "session_comments"
    __table_args__ = (Index("ix_session_comments_session", "session_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("therapy_sessions.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    utterance_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    episode_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CodeCorrection(Base):
    __tablename__ = "code_corrections"
    __table_args__ = (
        CheckConstraint("decision IN ('present', 'absent')", name="ck_code_corrections_decision"),
        Index("ix_code_corrections_session_author", "session_id", "author_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("therapy_sessions.id", ondelete="CASCADE"))
    utterance_id: Mapped[str] = mapped_column(String(256))
    code: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(8))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
