"""Retention settings per clinic and per client.

Revision ID: v0005
Revises: v0004
Create Date: 2026-12-02
"""

from __future__ import annotations

revision: str = "v0005"
down_revision: str | None = "v0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
