"""Client check links, questionnaire answers and safety alerts; the clinic's crisis text.

* ``check_links``: a single-use, expiring link to one instrument for one client. Only the
  SHA-256 of the link's token is stored; ``used_at`` is set once, by a conditional UPDATE.
* ``check_responses``: the answers of one administration (encrypted JSON), from a link or
  entered by the clinic (the demo clinic); ``attunement.course`` reads them.
* ``safety_alerts``: a risk item endorsed (e.g. PHQ-9 item 9 above zero); stays open until
  a clinician acknowledges it (who and when are kept here and in the audit log).

Revision ID: v0002
Revises: v0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "v0002"
down_revision: str | None = "v0001"
branch_labels: str | None = None
depends_on: str | None = None

TS = sa.DateTime(timezone=True)


def _client_fk() -> sa.Column[int]:
    return sa.Column(
        "client_id", sa.Integer, sa.ForeignKey("clients.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.add_column("clinic_settings", sa.Column("crisis_text", sa.String(600), nullable=True))
    op.create_table(
        "check_links",
        sa.Column("id", sa.Integer, primary_key=True),
        _client_fk(),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("instrument", sa.String(64), nullable=False),
        sa.Column("session_number", sa.Integer, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_index("ix_check_links_client", "check_links", ["client_id"])
    op.create_table(
        "check_responses",
        sa.Column("id", sa.Integer, primary_key=True),
        _client_fk(),
        sa.Column(
            "link_id",
            sa.Integer,
            sa.ForeignKey("check_links.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("instrument", sa.String(64), nullable=False),
        sa.Column("session_number", sa.Integer, nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("answers_enc", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_check_responses_client", "check_responses", ["client_id"])
    op.create_table(
        "safety_alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        _client_fk(),
        sa.Column(
            "response_id",
            sa.Integer,
            sa.ForeignKey("check_responses.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("instrument", sa.String(64), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("acknowledged_at", TS, nullable=True),
        sa.Column("acknowledged_by", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    )
    op.create_index("ix_safety_alerts_client", "safety_alerts", ["client_id"])


def downgrade() -> None:
    for name in ("safety_alerts", "check_responses", "check_links"):
        op.drop_table(name)
    op.drop_column("clinic_settings", "crisis_text")
