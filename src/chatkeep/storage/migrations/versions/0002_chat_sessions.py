"""chat sessions: one per (organisation, user), backfilled for every existing conversation owner

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:00:00.000000
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import chatkeep.storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# A frozen copy of chatkeep.core.chat_sessions' namespaces: a migration must not change when the code does.
_SESSION_NAMESPACE = uuid.UUID("16aafd0c-59bf-42c9-b1af-7799eb40d5a1")
_USER_NAMESPACE = uuid.UUID("a2dd67b0-26e4-42f5-8b67-2fc66af87edb")


def upgrade() -> None:
    chat_sessions = op.create_table(
        "chat_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("user_uuid", sa.Uuid(), nullable=False),
        sa.Column("created_at", chatkeep.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", chatkeep.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "user_id", name="uq_chat_sessions_org_user"),
        sa.UniqueConstraint("org_id", "user_uuid", name="uq_chat_sessions_org_user_uuid"),
    )
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_chat_sessions_org_created", ["org_id", "created_at", "id"], unique=False)
    _backfill(chat_sessions)


def _backfill(chat_sessions: sa.Table) -> None:
    """Give every user who already owns a conversation their chat session, dated by their first one."""
    conversations = sa.table(
        "conversations",
        sa.column("org_id", sa.Uuid()),
        sa.column("user_id", sa.String()),
        sa.column("created_at", chatkeep.storage.types.UTCDateTime(timezone=True)),
    )
    owners = op.get_bind().execute(
        sa.select(
            conversations.c.org_id, conversations.c.user_id, sa.func.min(conversations.c.created_at)
        ).group_by(conversations.c.org_id, conversations.c.user_id)
    )
    rows = [
        {
            "id": uuid.uuid5(_SESSION_NAMESPACE, f"{org_id}/{user_id}"),
            "org_id": org_id,
            "user_id": user_id,
            "user_uuid": uuid.uuid5(_USER_NAMESPACE, f"{org_id}/{user_id}"),
            "created_at": first or datetime.now(UTC),
            "updated_at": first or datetime.now(UTC),
        }
        for org_id, user_id, first in owners
    ]
    if rows:
        op.bulk_insert(chat_sessions, rows)


def downgrade() -> None:
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_sessions_org_created")
    op.drop_table("chat_sessions")
