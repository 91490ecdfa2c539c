"""ORM rows. Every tenant-owned row carries org_id, and every index that serves a list starts with it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chatkeep.storage.types import UTCDateTime, utcnow


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    """A tenant. `name` is the machine name used in URLs (Quant's `{organisation}`)."""

    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """An API credential. Only the SHA-256 of the secret is stored; the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(255), default=None)
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Conversation(Base):
    """A Quant session or a Waldur thread: messages owned by (org, user), pointing at its active leaf."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_org_user_created", "org_id", "user_id", "created_at", "id"),
        Index("ix_conversations_org_group_created", "org_id", "session_group", "created_at", "id"),
        Index("ix_conversations_org_created", "org_id", "created_at", "id"),
        Index("ix_conversations_expires_at", "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(255))
    group: Mapped[str | None] = mapped_column("session_group", String(255), default=None)
    title: Mapped[str | None] = mapped_column(String(255), default=None)
    model: Mapped[str | None] = mapped_column(String(255), default=None)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="active")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    active_leaf_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    # 64-bit: users raise it (Quant's tokensUsed), and a 32-bit total overflowed into failed settles.
    total_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    # Generation settings chosen when the conversation was created (Quant's older family); None: defaults.
    # `model` above is the model last used; `default_model` the one its turns use unless they name one.
    default_model: Mapped[str | None] = mapped_column(String(255), default=None)
    system_prompt: Mapped[str | None] = mapped_column(Text, default=None)
    max_tokens: Mapped[int | None] = mapped_column(Integer, default=None)
    temperature: Mapped[float | None] = mapped_column(Float, default=None)
    is_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    max_severity: Mapped[str] = mapped_column(String(16), default="none")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Message(Base):
    """One version of one turn. Edits and regenerations are siblings under the same parent."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_seq", "conversation_id", "sequence_index", "created_at"),
        # Only rows of running (or crashed) turns: what the stale-turn sweep looks for.
        Index(
            "ix_messages_in_progress",
            "created_at",
            postgresql_where=text("status = 'in_progress'"),
            sqlite_where=text("status = 'in_progress'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    blocks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    sequence_index: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="complete")
    model: Mapped[str | None] = mapped_column(String(255), default=None)
    input_tokens: Mapped[int | None] = mapped_column(BigInteger, default=None)
    output_tokens: Mapped[int | None] = mapped_column(BigInteger, default=None)
    is_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    severity: Mapped[str] = mapped_column(String(16), default="none")
    injection_categories: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    pii_categories: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    action_taken: Mapped[str] = mapped_column(String(16), default="allow")
    # The owner's rating of an answer: thumbs up (True) or down, with an optional comment and category.
    feedback_score: Mapped[bool | None] = mapped_column(Boolean, default=None)
    feedback_comment: Mapped[str | None] = mapped_column(Text, default=None)
    feedback_category: Mapped[str | None] = mapped_column(String(32), default=None)
    feedback_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The server process (a Replica's id) running this answer's turn, while it is in progress: when that
    # process is known dead, the answer is settled as checkpointed at once (see core.turns.recovery).
    runner_id: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsageRecord(Base):
    """One ledger row per turn (or per client-reported token count); monthly stats are queries over it."""

    __tablename__ = "usage_records"
    __table_args__ = (Index("ix_usage_org_created", "org_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(255))
    token_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    model: Mapped[str] = mapped_column(String(255))
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_cents: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="complete")
    kind: Mapped[str] = mapped_column(String(16), default="chat")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatSession(Base):
    """The per-user container of a user's conversations (Waldur's chat session): one per (org, user).

    `id` and `user_uuid` are derived from (org, user) (see core.chat_sessions), so every replica names
    a user's session the same way without asking the database.
    """

    __tablename__ = "chat_sessions"
    __table_args__ = (
        UniqueConstraint("org_id", "user_id", name="uq_chat_sessions_org_user"),
        UniqueConstraint("org_id", "user_uuid", name="uq_chat_sessions_org_user_uuid"),
        Index("ix_chat_sessions_org_created", "org_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(255))
    user_uuid: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsoleSession(Base):
    """A signed-in web console: it acts with the API token it was opened with. Only a SHA-256 of the
    session secret (the cookie's value) is stored."""

    __tablename__ = "console_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class TokenQuota(Base):
    """A user's own token limits per day, week and month. None: the organisation's default; -1: none."""

    __tablename__ = "token_quotas"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    daily_limit: Mapped[int | None] = mapped_column(BigInteger, default=None)
    weekly_limit: Mapped[int | None] = mapped_column(BigInteger, default=None)
    monthly_limit: Mapped[int | None] = mapped_column(BigInteger, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SystemPrompt(Base):
    """Instructions an organisation's staff keep for the assistant; at most one is active and used."""

    __tablename__ = "system_prompts"
    __table_args__ = (Index("ix_system_prompts_org_created", "org_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(150))
    description: Mapped[str] = mapped_column(Text, default="")
    custom_instructions: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Replica(Base):
    """A running server process. Turns it runs carry its id; its heartbeat (and, on its own host, its
    process id) tell the others whether it is still alive."""

    __tablename__ = "replicas"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    # When the process started, as its host's kernel tells it: a reused pid is then not taken for it.
    process_start: Mapped[str] = mapped_column(String(32), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The tables themselves, for plain statements on hot paths: the ORM-enabled forms of the same INSERT or
# UPDATE run through machinery that costs more than the SQL.
MESSAGES = cast(Table, Message.__table__)
CONVERSATIONS = cast(Table, Conversation.__table__)
USAGE_RECORDS = cast(Table, UsageRecord.__table__)


class AuditEntry(Base):
    """Who changed what, when and from where. Append-only: the database refuses UPDATE and DELETE on it.

    `org_id` is not a foreign key, so an organisation's trail outlives anything deleted in it.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_org_created", "org_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    actor_token_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_user: Mapped[str | None] = mapped_column(String(255), default=None)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_address: Mapped[str | None] = mapped_column(String(64), default=None)
    request_id: Mapped[str | None] = mapped_column(String(128), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


AUDIT_ENTRIES = cast(Table, AuditEntry.__table__)
REPLICAS = cast(Table, Replica.__table__)
CHAT_SESSIONS = cast(Table, ChatSession.__table__)
