"""64-bit token counters; the process running each answer; a heartbeat row per server process

Revision ID: 0004i
Revises: 0004_waldur_chat
Create Date: 2026-12-07 04:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import chatkeep.storage.types

revision = "0004i"
down_revision = "0004_waldur_chat"  # the head of main when this was rebased; written against 0003
branch_labels = None
depends_on = None

_TOKEN_COLUMNS = {
    "conversations": ("total_tokens",),
    "messages": ("input_tokens", "output_tokens"),
    "usage_records": ("input_tokens", "output_tokens"),
}


def upgrade() -> None:
    # SQLite's INTEGER is already 64-bit; batch mode rewrites its tables only to keep the declared types
    # in step with the models. On PostgreSQL these are ALTER COLUMN … TYPE BIGINT.
    for table, columns in _TOKEN_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.BigInteger(), existing_type=sa.Integer())
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("runner_id", sa.String(32), nullable=True))
    op.create_table(
        "replicas",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("process_start", sa.String(32), nullable=False),
        sa.Column("started_at", chatkeep.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", chatkeep.storage.types.UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("replicas")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("runner_id")
    for table, columns in _TOKEN_COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.Integer(), existing_type=sa.BigInteger())
