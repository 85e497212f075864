"""A password that must be changed at the next sign-in (an admin reset).

Revision ID: v0007
Revises: v0006
Create Date: 2026-12-02
"""

from __future__ import annotations

revision: str = "v0007"
down_revision: str | None = "v0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
