"""Quant wire models (camelCase), matching the upstream OpenAPI spec; responses are supersets."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

UserId = Field(min_length=1, max_length=255, description="User identifier for this session")


class WireModel(BaseModel):
    # Clients may send fields we do not know; ignore them rather than fail.
    model_config = ConfigDict(extra="ignore")


class SessionMessageIn(WireModel):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=1_000_000)


class UpdateMessageIn(WireModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=1_000_000)


class CreateSessionRequest(WireModel):
    userId: str = UserId
    sessionGroup: str | None = Field(default=None, max_length=255)
    metadata: dict[str, Any] | None = None
    expirationMinutes: int = Field(default=60, ge=5, le=1440)
    initialMessages: list[SessionMessageIn] | None = Field(default=None, max_length=1000)


class UpdateSessionRequest(WireModel):
    newMessages: list[UpdateMessageIn] | None = Field(default=None, max_length=1000)
    tokensUsed: int | None = Field(default=None, ge=0, le=1_000_000_000)
    status: Literal["active", "completed"] | None = None
    metadata: dict[str, Any] | None = None


class ExtendSessionRequest(WireModel):
    additionalMinutes: int = Field(default=60, ge=1, le=1440)


class SessionMessageOut(BaseModel):
    id: str
    role: str
    content: str
    parentId: str | None
    sequenceIndex: int
    status: str
    model: str | None
    createdAt: datetime
    timestamp: datetime


class SessionOut(BaseModel):
    """Every shape the spec gives a session (create, get, list, update, extend) in one superset."""

    id: str
    sessionId: str
    userId: str
    sessionGroup: str | None
    title: str | None
    model: str | None
    status: Literal["active", "completed"]
    metadata: dict[str, Any]
    expiresAt: datetime | None
    createdAt: datetime
    updatedAt: datetime
    created_at: datetime
    updated_at: datetime
    totalMessages: int
    totalTokens: int


class SessionWithMessagesOut(SessionOut):
    messages: list[SessionMessageOut]


class ExtendSessionOut(SessionOut):
    message: str


class MessageOut(BaseModel):
    message: str
