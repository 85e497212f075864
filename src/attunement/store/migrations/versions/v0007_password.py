"""A password that must be changed at the next sign-in (an admin reset).

``users.must_change_password``: set when an admin gives a user a temporary password;
while it is set, a sign-in leads only to the password change page. Existing users get
``false``.

Revision ID: v0007
Revises: v0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "v0007"
down_revision: str | None = "v0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # a plain ADD COLUMN (SQLite and PostgreSQL alike): no table rebuild, so the foreign
    # keys pointing at users are untouched
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
