"""Stored messages as OpenAI items, and OpenAI input items as messages.

A message is one item (`msg_<uuid hex>`): a `message` with `input_text` (user, system) or `output_text`
(assistant) parts; a user message holding tool results is a `function_call_output`. An assistant
message's tool calls follow it as `function_call` items (ids `fc_…`, not retrievable on their own).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from chatkeep.core.content import blocks_to_json, json_to_blocks
from chatkeep.core.conversations import NewMessage
from chatkeep.core.errors import InvalidInput, NotFound
from chatkeep.dialects.openai import ids
from chatkeep.dialects.openai.chat_input import arguments
from chatkeep.dialects.openai.content import Budget, parse_parts, text_of
from chatkeep.providers.base import ChatMessage, MediaBlock, TextBlock, ToolResultBlock, ToolUseBlock
from chatkeep.storage.models import Message

STATUS = {
    "complete": "completed",
    "in_progress": "in_progress",
    "failed": "incomplete",
    "cancelled": "incomplete",
}
ROLES = {"user": "user", "system": "system", "developer": "system", "assistant": "assistant"}


def render(message: Message) -> list[dict[str, Any]]:
    """The items one stored message shows as."""
    item_id = ids.encode(ids.MESSAGE, message.id)
    blocks = json_to_blocks(message.content, message.blocks)
    results = [b for b in blocks if isinstance(b, ToolResultBlock)]
    if results and message.role != "assistant":
        return [
            {
                "id": item_id if i == 0 else f"{item_id}_{i}",
                "type": "function_call_output",
                "call_id": r.tool_use_id,
                "output": r.content,
                "status": "completed",
            }
            for i, r in enumerate(results)
        ]
    status = STATUS.get(message.status, "completed")
    items: list[dict[str, Any]] = []
    text_kind = "output_text" if message.role == "assistant" else "input_text"
    parts: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, TextBlock) and (block.text or len(blocks) == 1):
            part: dict[str, Any] = {"type": text_kind, "text": block.text}
            if text_kind == "output_text":
                part.update(annotations=[], logprobs=[])
            parts.append(part)
        elif isinstance(block, MediaBlock) and block.kind == "image":
            parts.append({"type": "input_image", "detail": "auto", "image_url": None, "file_id": None})
        elif isinstance(block, MediaBlock):
            parts.append({"type": "input_file", "filename": block.name, "file_id": None})
    calls = [b for b in blocks if isinstance(b, ToolUseBlock)]
    if parts or not calls:
        items.append(
            {"id": item_id, "type": "message", "role": message.role, "status": status, "content": parts}
        )
    items += [function_call(c, f"fc_{message.id.hex}_{i}") for i, c in enumerate(calls)]
    return items


def function_call(call: ToolUseBlock, item_id: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "call_id": call.id,
        "name": call.name,
        "arguments": json.dumps(call.input),
        "status": "completed",
    }


def to_messages(items: str | list[Any], where: str, budget: Budget) -> list[ChatMessage]:
    """Input items (or one string) as messages: calls join the assistant message before them, results
    share one user message."""
    if isinstance(items, str):
        return [ChatMessage.of_text("user", items)]
    out: list[ChatMessage] = []
    for i, item in enumerate(items):
        here = f"{where}.{i}"
        if not isinstance(item, dict):
            raise InvalidInput("each input item must be an object", field=here)
        kind = item.get("type", "message")
        if kind == "message":
            out.append(_message(item, here, budget))
        elif kind == "function_call":
            call = ToolUseBlock(
                id=_text(item, "call_id", here),
                name=_text(item, "name", here),
                input=arguments(_text(item, "arguments", here), f"{here}.arguments"),
            )
            _merge(out, "assistant", call)
        elif kind == "function_call_output":
            output = item.get("output")
            text = (
                output if isinstance(output, str) else text_of(parse_parts(output, f"{here}.output", budget))
            )
            _merge(out, "user", ToolResultBlock(_text(item, "call_id", here), text))
        else:
            raise InvalidInput(
                f"input items of type {kind!r} are not supported (message, function_call and "
                "function_call_output are)",
                field=here,
            )
    return out


def _message(item: dict[str, Any], where: str, budget: Budget) -> ChatMessage:
    role = ROLES.get(str(item.get("role")))
    if role is None:
        raise InvalidInput("role must be one of user, system, developer, assistant", field=f"{where}.role")
    content = item.get("content")
    if not isinstance(content, str | list):
        raise InvalidInput("content must be a string or a list of parts", field=f"{where}.content")
    blocks = parse_parts(content, f"{where}.content", budget)
    chat_role: Literal["user", "assistant", "system"] = role  # type: ignore[assignment]
    return ChatMessage(role=chat_role, content=blocks)


def _merge(out: list[ChatMessage], role: Literal["user", "assistant"], block: Any) -> None:
    """Add a tool block to the previous message of the same role when that one holds tool blocks too."""
    kinds = ToolUseBlock if role == "assistant" else ToolResultBlock
    previous = out[-1] if out else None
    # A call joins the assistant message before it (its text and its calls are one answer).
    joins = previous is not None and previous.role == role
    if joins and (role == "assistant" or any(isinstance(b, kinds) for b in previous.content)):  # type: ignore[union-attr]
        out[-1] = ChatMessage(role=role, content=(*previous.content, block))  # type: ignore[union-attr]
    else:
        out.append(ChatMessage(role=role, content=(block,)))


def _text(item: dict[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{name} must be a non-empty string", field=f"{where}.{name}")
    return value


def to_new_messages(messages: list[ChatMessage]) -> list[NewMessage]:
    """Messages to store as they are (conversation items added without a model call)."""
    return [NewMessage(role=m.role, content=m.text, blocks=blocks_to_json(m.content)) for m in messages]


def page(items: list[dict[str, Any]], *, after: str | None, limit: int, order: str) -> dict[str, Any]:
    """A cursor page as OpenAI lists items: `after` an item id, `order` asc or desc."""
    ordered = items if order == "asc" else list(reversed(items))
    if after is not None:
        position = next((i for i, item in enumerate(ordered) if item["id"] == after), None)
        if position is None:
            raise NotFound(f"No item found with id '{after}' to list after.", field="item")
        ordered = ordered[position + 1 :]
    data = ordered[:limit]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": len(ordered) > limit,
    }
