"""Several people in one case (couples, family, group), each with their own check link.

* ``case_members``: a person in a client's case — an encrypted label, a role
  (client/partner/parent/child/member), an optional age band, active or not. Members are
  deactivated, never deleted by the app; deleting the client deletes them (CASCADE).
* ``check_links.member_id``, ``check_responses.member_id``: whose link, whose answers
  (null: the client as a whole, as before). CASCADE: a person's answers go with that
  person — SET NULL would silently merge them into someone else's series.

Revision ID: v0004
Revises: v0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "v0004"
down_revision: str | None = "v0003"
branch_labels: str | None = None
depends_on: str | None = None

TS = sa.DateTime(timezone=True)


def _member_fk() -> sa.Column[int]:
    return sa.Column(
        "member_id",
        sa.Integer,
        sa.ForeignKey("case_members.id", ondelete="CASCADE"),
        nullable=True,
    )


def upgrade() -> None:
    op.create_table(
        "case_members",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "client_id",
            sa.Integer,
            sa.ForeignKey("clients.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("label_enc", sa.LargeBinary, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("age_band", sa.String(16), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_case_members_client", "case_members", ["client_id"])
    # inline REFERENCES: SQLite can add a column with a foreign key, not a constraint
    op.add_column("check_links", _member_fk(), inline_references=True)
    op.add_column("check_responses", _member_fk(), inline_references=True)


def downgrade() -> None:
    with op.batch_alter_table("check_responses") as batch:
        batch.drop_column("member_id")
    with op.batch_alter_table("check_links") as batch:
        batch.drop_column("member_id")
    op.drop_index("ix_case_members_client", table_name="case_members")
    op.drop_table("case_members")
