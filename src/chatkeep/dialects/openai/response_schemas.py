"""The request body of `POST /v1/responses`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from chatkeep.dialects.openai.item_schemas import InputItem
from chatkeep.dialects.openai.wire import Metadata, WireModel
from chatkeep.providers.base import JsonOutput


class FunctionTool(WireModel):
    type: str = "function"
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")
    description: str | None = Field(default=None, max_length=10_000)
    parameters: dict[str, Any] | None = None
    strict: bool | None = None

    @model_validator(mode="after")
    def _functions_only(self) -> FunctionTool:
        if self.type != "function":
            raise ValueError(f"tools of type {self.type!r} are not supported; only function tools are")
        return self


class TextFormat(WireModel):
    type: Literal["text", "json_object", "json_schema"] = "text"
    name: str | None = Field(default=None, max_length=64)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    description: str | None = None
    strict: bool | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> TextFormat:
        if self.type == "json_schema" and (not self.schema_ or not self.name):
            raise ValueError("a json_schema format needs a name and a schema")
        return self


class TextConfig(WireModel):
    format: TextFormat = Field(default_factory=TextFormat)


class ConversationRef(WireModel):
    id: str = Field(max_length=100)


class ResponseRequest(WireModel):
    model: str | None = Field(default=None, min_length=1, max_length=255)
    input: str | Annotated[list[InputItem], Field(min_length=1, max_length=2048)] = Field(
        description="A user message, or items (messages, function calls and their outputs)"
    )
    instructions: str | None = Field(default=None, max_length=200_000)
    conversation: str | ConversationRef | None = None
    previous_response_id: str | None = Field(default=None, max_length=100)
    store: bool = True
    stream: bool = False
    background: bool = False
    max_output_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    tools: list[FunctionTool] | None = Field(default=None, max_length=128)
    tool_choice: str | dict[str, Any] | None = None
    text: TextConfig | None = None
    metadata: Metadata = None
    user: str | None = Field(default=None, max_length=255)
    safety_identifier: str | None = Field(default=None, max_length=255)

    @model_validator(mode="after")
    def _supported(self) -> ResponseRequest:
        if self.background:
            raise ValueError("background responses are not supported; omit background")
        if self.conversation is not None and self.previous_response_id is not None:
            raise ValueError("conversation and previous_response_id cannot both be given")
        return self

    @property
    def conversation_id(self) -> str | None:
        return self.conversation.id if isinstance(self.conversation, ConversationRef) else self.conversation

    def response_format(self) -> JsonOutput | None:
        """`text.format` as what the model is asked for: free text (None), any JSON object, or a schema."""
        fmt = self.text.format if self.text else None
        if fmt is None or fmt.type == "text":
            return None
        if fmt.type == "json_object":
            return JsonOutput()
        return JsonOutput(schema=fmt.schema_, name=fmt.name or "response")
