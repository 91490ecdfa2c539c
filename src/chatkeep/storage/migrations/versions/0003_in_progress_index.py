"""partial index on answers still in progress, for the stale-turn sweep

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_IN_PROGRESS = sa.text("status = 'in_progress'")


def upgrade() -> None:
    # The sweep runs every purge round; without this it scans every message ever stored. Only rows of
    # running (or crashed) turns are in the index, so it stays tiny.
    op.create_index(
        "ix_messages_in_progress",
        "messages",
        ["created_at"],
        postgresql_where=_IN_PROGRESS,
        sqlite_where=_IN_PROGRESS,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_in_progress", table_name="messages")
