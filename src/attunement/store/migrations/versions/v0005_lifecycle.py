"""Retention settings per clinic and per client.

* ``clinic_settings.retention``: the clinic's default, ``keep`` (everything),
  ``delete_transcript`` (the uploaded transcript is deleted once its analysis is stored)
  or ``codes_only`` (also the words: the analysis keeps codes, probabilities, timestamps,
  speakers and episodes); see ``attunement.store.retention``.
* ``clients.retention``: a per-client override; NULL means the clinic's default.

Revision ID: v0005
Revises: v0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "v0005"
down_revision: str | None = "v0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column(
        "clinic_settings",
        sa.Column("retention", sa.String(24), nullable=False, server_default="keep"),
    )
    op.add_column("clients", sa.Column("retention", sa.String(24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("retention")
    with op.batch_alter_table("clinic_settings") as batch:
        batch.drop_column("retention")
