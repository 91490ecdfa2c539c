"""Waldur wire models, for the OpenAPI document and for tests; handlers render plain dicts (see render).

Every key is optional in the schema because `field=` may select any subset.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

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
