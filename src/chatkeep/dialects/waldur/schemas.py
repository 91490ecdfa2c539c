"""Waldur wire models, for the OpenAPI document and for tests; handlers render plain dicts (see render).

Every key is optional in the schema because `field=` may select any subset.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["none", "low", "medium", "high", "critical"]
Action = Literal["allow", "flag", "warn", "redact", "block"]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatSessionOut(WireModel):
    uuid: str | None = None
    user: str | None = None
    user_username: str | None = None
    user_full_name: str | None = None
    created: str | None = None
    modified: str | None = None


class ThreadFlags(WireModel):
    is_flagged: bool | None = None
    max_severity: Severity | None = None


class ThreadOut(WireModel):
    uuid: str | None = None
    name: str | None = None
    chat_session: str | None = None
    flags: ThreadFlags | None = None
    is_archived: bool | None = None
    message_count: int | None = None
    is_flagged: bool | None = None
    max_severity: Severity | None = None
    user_username: str | None = None
    user_full_name: str | None = None
    created: str | None = None
    modified: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    title_gen_input_tokens: int | None = None
    title_gen_output_tokens: int | None = None
    models_used: str | None = None
    has_feedback: bool | None = None


class BlockOut(WireModel):
    id: str
    key: Literal["markdown"]
    status: Literal["complete"]
    content: str


class MessageOut(WireModel):
    """The superset of Waldur 8.0.6 (`content`) and 8.1.3 (`blocks` …); detections only for staff."""

    uuid: str
    thread: str
    role: Literal["user", "assistant"]
    content: str
    blocks: list[BlockOut]
    warning: str
    sequence_index: int
    replaces: str | None
    created: str
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    feedback_score: bool | None
    feedback_comment: str | None
    feedback_category: str | None
    feedback_submitted_at: str | None
    is_flagged: bool | None = None
    severity: Severity | None = None
    injection_categories: dict[str, Severity] | None = None
    pii_categories: dict[str, Severity] | None = None
    action_taken: Action | None = None


class ErrorOut(BaseModel):
    detail: str


# A 400 in DRF's shapes: `{field: [messages]}` for a field, `{detail: message}` for the body as a whole.
BadRequest = dict[str, list[str] | str]


FeedbackCategory = Literal["inaccurate", "incomplete", "misunderstood", "other", "slow_or_failed"]


class FeedbackIn(BaseModel):
    """Waldur's MessageFeedbackRequest."""

    model_config = ConfigDict(extra="ignore")

    score: bool
    comment: str | None = Field(default=None, max_length=10_000)
    category: FeedbackCategory | None = None


class ThreadStatsOut(WireModel):
    threads_total: int
    sessions_total: int
    users_total: int
    messages_total: int
    input_tokens_total: int
    output_tokens_total: int
    total_tokens: int
    flagged_total: int
    feedback_positive: int
    feedback_negative: int
    satisfaction_rate: float | None


# Waldur's limits: null = the default, -1 = unlimited, otherwise a non-negative count of tokens.
Limit = Annotated[int | None, Field(ge=-1, le=10**15)]


class SetQuotaIn(BaseModel):
    """Waldur's SetTokenQuotaRequest; an absent limit stays as it is, null goes back to the default."""

    model_config = ConfigDict(extra="ignore")

    user_uuid: uuid.UUID
    daily_limit: Limit = None
    weekly_limit: Limit = None
    monthly_limit: Limit = None


class QuotaUsageOut(WireModel):
    daily_limit: int | None
    daily_usage: int
    daily_remaining: int | None
    daily_reset_at: str
    daily_system_default: int
    weekly_limit: int | None
    weekly_usage: int
    weekly_remaining: int | None
    weekly_reset_at: str
    weekly_system_default: int
    monthly_limit: int | None
    monthly_usage: int
    monthly_remaining: int | None
    monthly_reset_at: str
    monthly_system_default: int


class SystemPromptIn(BaseModel):
    """Waldur's SystemPromptRequest (PUT and POST)."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=150)
    description: str = Field(default="", max_length=10_000)
    custom_instructions: str = Field(default="", max_length=100_000)


class SystemPromptPatch(BaseModel):
    """Waldur's PatchedSystemPromptRequest: only the given fields change."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, min_length=1, max_length=150)
    description: str | None = Field(default=None, max_length=10_000)
    custom_instructions: str | None = Field(default=None, max_length=100_000)


class SystemPromptOut(WireModel):
    uuid: str
    name: str
    description: str
    custom_instructions: str
    is_active: bool
    created: str
    modified: str
