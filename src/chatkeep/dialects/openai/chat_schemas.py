"""The request body of `POST /v1/chat/completions`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from chatkeep.dialects.openai.wire import Metadata, WireModel
from chatkeep.providers.base import JsonOutput


class FunctionIn(WireModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")
    description: str = Field(default="", max_length=10_000)
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None


class ToolIn(WireModel):
    type: Literal["function"] = "function"
    function: FunctionIn


class FunctionCallIn(WireModel):
    name: str = Field(min_length=1, max_length=64)
    arguments: str = Field(max_length=1_000_000)


class ToolCallIn(WireModel):
    id: str = Field(min_length=1, max_length=255)
    type: Literal["function"] = "function"
    function: FunctionCallIn


class TextPart(WireModel):
    type: Literal["text"]
    text: str


class ImageUrl(WireModel):
    url: str = Field(description="A base64 data URL (data:image/png;base64,…)")
    detail: Literal["auto", "low", "high"] = "auto"


class ImagePart(WireModel):
    type: Literal["image_url"]
    image_url: ImageUrl


class FileData(WireModel):
    file_data: str | None = Field(default=None, description="A base64 data URL of the file")
    filename: str | None = Field(default=None, max_length=255)


class FilePart(WireModel):
    type: Literal["file"]
    file: FileData


class RefusalPart(WireModel):
    type: Literal["refusal"]
    refusal: str


UserPart = Annotated[TextPart | ImagePart | FilePart, Field(discriminator="type")]
AssistantPart = Annotated[TextPart | RefusalPart, Field(discriminator="type")]


class _Named(WireModel):
    name: str | None = Field(default=None, max_length=255)


class SystemMessage(_Named):
    role: Literal["system", "developer"]
    content: str | Annotated[list[TextPart], Field(min_length=1, max_length=64)]


class UserMessage(_Named):
    role: Literal["user"]
    content: str | Annotated[list[UserPart], Field(min_length=1, max_length=64)]


class AssistantMessage(_Named):
    role: Literal["assistant"]
    content: str | Annotated[list[AssistantPart], Field(min_length=1, max_length=64)] | None = None
    tool_calls: list[ToolCallIn] | None = Field(default=None, max_length=128)
    refusal: str | None = None


class ToolMessage(WireModel):
    role: Literal["tool"]
    content: str | Annotated[list[TextPart], Field(min_length=1, max_length=64)]
    tool_call_id: str = Field(min_length=1, max_length=255)


MessageIn = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage, Field(discriminator="role")
]


class StreamOptions(WireModel):
    include_usage: bool = False


class JsonSchemaFormat(WireModel):
    name: str = Field(default="response", max_length=64)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    description: str | None = None
    strict: bool | None = None


class ResponseFormat(WireModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None

    def output(self) -> JsonOutput | None:
        """What the model is asked for: free text (None), any JSON object, or JSON matching a schema."""
        if self.type == "text":
            return None
        if self.type == "json_object" or self.json_schema is None:
            return JsonOutput()
        return JsonOutput(schema=self.json_schema.schema_, name=self.json_schema.name)

    @model_validator(mode="after")
    def _schema_given(self) -> ResponseFormat:
        if self.type == "json_schema" and not self.json_schema:
            raise ValueError("response_format of type json_schema needs json_schema")
        return self


class ChatCompletionRequest(WireModel):
    model: str = Field(min_length=1, max_length=255)
    messages: list[MessageIn] = Field(min_length=1, max_length=2048)
    stream: bool = False
    stream_options: StreamOptions | None = None
    tools: list[ToolIn] | None = Field(default=None, max_length=128)
    tool_choice: str | dict[str, Any] | None = None
    response_format: ResponseFormat | None = None
    n: int | None = Field(default=None, ge=1, le=1, description="Only 1 is supported")
    stop: str | list[str] | None = None
    max_completion_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    user: str | None = Field(default=None, max_length=255)
    safety_identifier: str | None = Field(default=None, max_length=255)
    metadata: Metadata = None

    @model_validator(mode="after")
    def _stop_list(self) -> ChatCompletionRequest:
        if isinstance(self.stop, list) and len(self.stop) > 4:
            raise ValueError("stop may hold at most 4 sequences")
        return self
