"""message feedback, per-user token quotas, system prompts, and a session's generation settings

Revision ID: 0004_waldur_chat
Revises: a7c3e91f0d24 (0005_audit_entries)
Create Date: 2026-12-07 04:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chatkeep.storage.types import UTCDateTime

revision = "0004_waldur_chat"
down_revision = "a7c3e91f0d24"  # the audit entries
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("feedback_score", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("feedback_comment", sa.Text(), nullable=True))
        batch.add_column(sa.Column("feedback_category", sa.String(32), nullable=True))
        batch.add_column(sa.Column("feedback_submitted_at", UTCDateTime(timezone=True), nullable=True))
    # The generation settings a session was created with (Quant's older family), used by its later turns.
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("default_model", sa.String(255), nullable=True))
        batch.add_column(sa.Column("system_prompt", sa.Text(), nullable=True))
        batch.add_column(sa.Column("max_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("temperature", sa.Float(), nullable=True))
    op.create_table(
        "token_quotas",
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("daily_limit", sa.BigInteger(), nullable=True),
        sa.Column("weekly_limit", sa.BigInteger(), nullable=True),
        sa.Column("monthly_limit", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "user_id"),
    )
    op.create_table(
        "system_prompts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Uuid(), sa.ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(150), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("custom_instructions", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_system_prompts_org_created", "system_prompts", ["org_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_system_prompts_org_created", table_name="system_prompts")
    op.drop_table("system_prompts")
    op.drop_table("token_quotas")
    with op.batch_alter_table("conversations") as batch:
        for column in ("temperature", "max_tokens", "system_prompt", "default_model"):
            batch.drop_column(column)
    with op.batch_alter_table("messages") as batch:
        for column in ("feedback_submitted_at", "feedback_category", "feedback_comment", "feedback_score"):
            batch.drop_column(column)
