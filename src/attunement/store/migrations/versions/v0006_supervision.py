"""Supervisor comments on session reviews and code corrections.

Revision ID: v0006
Revises: v0005
Create Date: 2026-12-02
"""

from __future__ import annotations

revision: str = "v0006"
down_revision: str | None = "v0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
