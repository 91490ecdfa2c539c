"""Converting message content between the provider's blocks and what a message row stores."""

from __future__ import annotations

import base64
from typing import Any, Literal, cast

from chatkeep.providers.base import (
    ChatMessage,
    ContentBlock,
    MediaBlock,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)

Role = Literal["user", "assistant", "system", "tool"]


def blocks_to_json(blocks: tuple[ContentBlock, ...]) -> list[dict[str, Any]] | None:
    """JSON for the `blocks` column; None for plain text (the `content` column then says it all)."""
    if all(isinstance(b, TextBlock) for b in blocks):
        return None
    out: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, TextBlock):
            out.append({"type": "text", "text": block.text})
        elif isinstance(block, MediaBlock):
            out.append(
                {
                    "type": block.kind,
                    "format": block.format,
                    "name": block.name,
                    "size": len(block.data),
                    "data": base64.b64encode(block.data).decode("ascii"),
                }
            )
        elif isinstance(block, ToolUseBlock):
            out.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
        else:
            out.append({"type": "tool_result", "tool_use_id": block.tool_use_id, "content": block.content})
    return out


def json_to_blocks(content: str, blocks: list[dict[str, Any]] | None) -> tuple[ContentBlock, ...]:
    """The provider blocks for a stored message (inverse of blocks_to_json)."""
    if not blocks:
        return (TextBlock(content),)
    out: list[ContentBlock] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "text":
            out.append(TextBlock(str(block.get("text", ""))))
        elif kind in ("image", "video", "document"):
            media_kind = cast(Literal["image", "video", "document"], kind)
            data = base64.b64decode(block.get("data", ""))
            out.append(
                MediaBlock(kind=media_kind, format=str(block["format"]), data=data, name=block.get("name"))
            )
        elif kind == "tool_use":
            out.append(ToolUseBlock(id=str(block["id"]), name=str(block["name"]), input=dict(block["input"])))
        elif kind == "tool_result":
            out.append(ToolResultBlock(tool_use_id=str(block["tool_use_id"]), content=str(block["content"])))
    return tuple(out)


def replace_text(message: ChatMessage, text: str) -> ChatMessage:
    """The same message with its text blocks replaced by one block of `text` (used for redaction)."""
    others = tuple(b for b in message.content if not isinstance(b, TextBlock))
    return ChatMessage(role=message.role, content=(TextBlock(text), *others))


def media_kinds(messages: tuple[ChatMessage, ...] | list[ChatMessage]) -> set[str]:
    """Which media kinds (image, video, document) the messages carry."""
    return {b.kind for m in messages for b in m.content if isinstance(b, MediaBlock)}
