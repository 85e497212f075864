"""Several people in one case (couples, family, group), each with their own check link.

Revision ID: v0004
Revises: v0003
Create Date: 2026-12-02
"""

from __future__ import annotations

revision: str = "v0004"
down_revision: str | None = "v0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
