"""Appointments, reminders, client contact details and calendar feeds.

Revision ID: v0003
Revises: v0002
Create Date: 2026-12-02
"""

from __future__ import annotations

revision: str = "v0003"
down_revision: str | None = "v0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
