"""Appointment outcomes that say who: ``appointments.status`` widened to 24 characters.

The statuses are now scheduled, attended, client_no_show, client_cancelled,
therapist_cancelled and therapist_missed (the course engine's event kinds); the longest
has 19 characters, the column had 12. Rows written before keep their value: "cancelled"
and "missed" stay as they are, read as "who was not recorded" (see
:mod:`attunement.store.tables_schedule`) — no data is rewritten, because the old status
does not say whether the client or the therapist missed the session.

Revision ID: v0008
Revises: v0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "v0008"
down_revision: str | None = "v0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # PostgreSQL: ALTER COLUMN … TYPE; SQLite: a copy of the table (nothing references
    # appointments by foreign key, and its indexes are recreated)
    with op.batch_alter_table("appointments") as batch:
        batch.alter_column(
            "status", type_=sa.String(24), existing_type=sa.String(12), existing_nullable=False
        )


def downgrade() -> None:
    # the who-outcomes do not fit in 12 characters: fold them back into the old statuses
    table = sa.table("appointments", sa.column("status", sa.String))
    for new, old in (
        ("client_no_show", "missed"),
        ("therapist_missed", "missed"),
        ("client_cancelled", "cancelled"),
        ("therapist_cancelled", "cancelled"),
    ):
        op.execute(table.update().where(table.c.status == new).values(status=old))
    with op.batch_alter_table("appointments") as batch:
        batch.alter_column(
            "status", type_=sa.String(12), existing_type=sa.String(24), existing_nullable=False
        )
