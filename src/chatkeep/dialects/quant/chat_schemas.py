"""Quant inference wire models: ChatInferenceRequest and its buffered response."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema

from chatkeep.dialects.quant.content_schema import CONTENT_BLOCK
from chatkeep.dialects.quant.schemas import WireModel


class ChatMessageIn(WireModel):
    role: Literal["user", "assistant", "system"]
    # A string, or a list of blocks ({text}, {image}, {video}, {document}, {toolUse}, {toolResult});
    # blocks are checked and decoded in quant/content.py, where the size limits live.
    content: (
        str | Annotated[list[Annotated[dict[str, Any], WithJsonSchema(CONTENT_BLOCK)]], Field(min_length=1)]
    )


class ToolInputSchema(WireModel):
    json_: dict[str, Any] = Field(default_factory=dict, alias="json")


class ToolSpecIn(WireModel):
    name: str = Field(min_length=1, max_length=64)
    description: str = Field(default="", max_length=10_000)
    inputSchema: ToolInputSchema = Field(default_factory=ToolInputSchema)


class ToolIn(WireModel):
    toolSpec: ToolSpecIn


class ToolConfigIn(WireModel):
    tools: list[ToolIn] = Field(default_factory=list, max_length=128)
    autoExecute: bool = False
    allowedTools: list[str] | None = None


class ResponseFormatIn(WireModel):
    type: Literal["json"] = "json"
    jsonSchema: dict[str, Any] | None = None


class ChatRequest(WireModel):
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=10_000)
    modelId: str | None = Field(default=None, max_length=255)
    temperature: float | None = Field(default=None, ge=0, le=2)
    maxTokens: int | None = Field(default=None, ge=1, le=65536)
    topP: float | None = Field(default=None, ge=0, le=1)
    stream: bool | None = None
    systemPrompt: str | None = Field(default=None, max_length=200_000)
    stopSequences: list[str] | None = Field(default=None, max_length=4)
    responseFormat: ResponseFormatIn | None = None
    toolConfig: ToolConfigIn | None = None
    sessionId: uuid.UUID | None = None
    # chatkeep answers synchronously: `true` is refused with a 400 naming the field (chat.py).
    async_: bool = Field(default=False, alias="async", json_schema_extra={"enum": [False]})
    allowedTools: list[str] | None = None
    guardrails: dict[str, Any] | None = None
    longContext: bool = False
    userId: str | None = Field(default=None, min_length=1, max_length=255)


class ChatUsageOut(BaseModel):
    inputTokens: int
    outputTokens: int
    totalTokens: int
    costCents: float


class ChatResponseBody(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    toolUse: dict[str, Any] | list[dict[str, Any]] | None = None


class ChatResponse(BaseModel):
    response: ChatResponseBody
    model: str
    requestId: str
    finishReason: Literal["stop", "length", "content_filter", "tool_use"]
    usage: ChatUsageOut
    sessionId: str | None = None
