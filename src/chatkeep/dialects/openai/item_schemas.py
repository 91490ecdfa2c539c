"""Input items of the Responses and Conversations APIs: messages, function calls and their outputs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from chatkeep.dialects.openai.wire import WireModel

TEXT_LIMIT = 2_000_000
ID_LIMIT = 255


class InputText(WireModel):
    type: Literal["input_text", "output_text"]
    text: str = Field(max_length=TEXT_LIMIT)


class InputImage(WireModel):
    type: Literal["input_image"]
    image_url: str | None = Field(default=None, description="A base64 data URL (data:image/png;base64,…)")
    detail: Literal["auto", "low", "high"] = "auto"


class InputFile(WireModel):
    type: Literal["input_file"]
    file_data: str | None = Field(default=None, description="A base64 data URL of the file")
    filename: str | None = Field(default=None, max_length=255)


class Refusal(WireModel):
    type: Literal["refusal"]
    refusal: str = Field(max_length=TEXT_LIMIT)


ContentPart = Annotated[InputText | InputImage | InputFile | Refusal, Field(discriminator="type")]


class MessageItem(WireModel):
    type: Literal["message"] = "message"
    role: Literal["user", "system", "developer", "assistant"]
    content: str | Annotated[list[ContentPart], Field(min_length=1, max_length=64)]


class FunctionCallItem(WireModel):
    type: Literal["function_call"]
    call_id: str = Field(min_length=1, max_length=ID_LIMIT)
    name: str = Field(min_length=1, max_length=64)
    arguments: str = Field(max_length=TEXT_LIMIT)


class FunctionCallOutputItem(WireModel):
    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1, max_length=ID_LIMIT)
    output: str | Annotated[list[ContentPart], Field(max_length=64)]


InputItem = MessageItem | FunctionCallItem | FunctionCallOutputItem


def as_dicts(items: str | list[InputItem]) -> str | list[dict[str, Any]]:
    """The items as plain JSON values, for the parser that turns them into messages."""
    return items if isinstance(items, str) else [item.model_dump(exclude_none=True) for item in items]
