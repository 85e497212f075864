"""Supervisor comments on session reviews and code corrections.

* ``session_comments``: comments on a session review (the body encrypted), optionally on
  one utterance or episode; deleted with the session (and so with the client).
* ``code_corrections``: a coder's "present"/"absent" decision for one code on one
  utterance; the latest per (session, utterance, code, author) counts. No text is copied.

Revision ID: v0006
Revises: v0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "v0006"
down_revision: str | None = "v0005"
branch_labels: str | None = None
depends_on: str | None = None

TS = sa.DateTime(timezone=True)


def _session_fk() -> sa.Column[int]:
    return sa.Column(
        "session_id",
        sa.Integer,
        sa.ForeignKey("therapy_sessions.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "session_comments",
        sa.Column("id", sa.Integer, primary_key=True),
        _session_fk(),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("body_enc", sa.LargeBinary, nullable=False),
        sa.Column("utterance_id", sa.String(256), nullable=True),
        sa.Column("episode_id", sa.String(256), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_session_comments_session", "session_comments", ["session_id"])
    op.create_table(
        "code_corrections",
        sa.Column("id", sa.Integer, primary_key=True),
        _session_fk(),
        sa.Column("utterance_id", sa.String(256), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("author_role", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(
            "decision IN ('present', 'absent')", name="ck_code_corrections_decision"
        ),
    )
    op.create_index(
        "ix_code_corrections_session_author", "code_corrections", ["session_id", "author_id"]
    )


def downgrade() -> None:
    op.drop_table("code_corrections")
    op.drop_table("session_comments")
