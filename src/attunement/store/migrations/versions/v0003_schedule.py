"""Appointments, reminders, client contact details and calendar feeds.

* ``appointments``: sessions on the calendar (status scheduled / cancelled / attended /
  missed, when it was set, when the client's reminder went out; an optional encrypted
  note).
* ``client_contacts``: one row per client: the e-mail address (encrypted) and consent to
  e-mail reminders.
* ``reminder_rules``: one rule per client and kind (appointment reminder, weekly check
  link, check link after an attended session).
* ``outbox``: e-mails to send (recipient and body encrypted); claimed by a conditional
  UPDATE; ``dedup_key`` is unique so a reminder is queued once.
* ``calendar_feeds``: a therapist's iCal link (only the token's SHA-256), revocable.

Revision ID: v0003
Revises: v0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "v0003"
down_revision: str | None = "v0002"
branch_labels: str | None = None
depends_on: str | None = None

TS = sa.DateTime(timezone=True)


def _client_fk(unique: bool = False) -> sa.Column[int]:
    return sa.Column(
        "client_id",
        sa.Integer,
        sa.ForeignKey("clients.id", ondelete="CASCADE"),
        nullable=False,
        unique=unique,
    )


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer, primary_key=True),
        _client_fk(),
        sa.Column("therapist_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("status_at", TS, nullable=False),
        sa.Column("note_enc", sa.LargeBinary, nullable=True),
        sa.Column("reminder_sent_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_appointments_client", "appointments", ["client_id"])
    op.create_index(
        "ix_appointments_therapist_start", "appointments", ["therapist_id", "starts_at"]
    )
    op.create_table(
        "client_contacts",
        sa.Column("id", sa.Integer, primary_key=True),
        _client_fk(unique=True),
        sa.Column("email_enc", sa.LargeBinary, nullable=True),
        sa.Column("email_consent", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "reminder_rules",
        sa.Column("id", sa.Integer, primary_key=True),
        _client_fk(),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("hours_before", sa.Integer, nullable=True),
        sa.Column("weekday", sa.Integer, nullable=True),
        sa.Column("hour", sa.Integer, nullable=True),
        sa.Column("instrument", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("active_since", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("client_id", "kind"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        _client_fk(),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("related_type", sa.String(24), nullable=False),
        sa.Column("related_id", sa.Integer, nullable=False),
        sa.Column("dedup_key", sa.String(64), nullable=False, unique=True),
        sa.Column("to_enc", sa.LargeBinary, nullable=False),
        sa.Column("subject", sa.String(160), nullable=False),
        sa.Column("body_enc", sa.LargeBinary, nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.String(120), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
    )
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_client", "outbox", ["client_id"])
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )


def downgrade() -> None:
    for name in ("calendar_feeds", "outbox", "reminder_rules", "client_contacts", "appointments"):
        op.drop_table(name)
