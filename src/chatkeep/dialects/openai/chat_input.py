"""Chat-completions messages as provider messages: tool calls and results in chatkeep's block form."""

from __future__ import annotations

import json
from typing import Any

from chatkeep.core.errors import InvalidInput
from chatkeep.dialects.openai.chat_schemas import (
    AssistantMessage,
    ChatCompletionRequest,
    MessageIn,
    ToolMessage,
)
from chatkeep.dialects.openai.content import Budget, new_budget, parse_parts, text_of
from chatkeep.providers.base import ChatMessage, TextBlock, ToolResultBlock, ToolSpec, ToolUseBlock


def arguments(raw: str, where: str) -> dict[str, Any]:
    """A tool call's JSON arguments as an object."""
    try:
        value = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise InvalidInput("tool call arguments must be a JSON object", field=where) from None
    if not isinstance(value, dict):
        raise InvalidInput("tool call arguments must be a JSON object", field=where)
    return value


def messages(body: ChatCompletionRequest) -> tuple[ChatMessage, ...]:
    """Developer messages are system messages; consecutive tool results share one user message."""
    budget = new_budget()
    out: list[ChatMessage] = []
    for i, message in enumerate(body.messages):
        converted = _message(message, f"messages.{i}", budget)
        previous = out[-1] if out else None
        if (
            message.role == "tool"
            and previous is not None
            and all(isinstance(b, ToolResultBlock) for b in previous.content)
        ):
            out[-1] = ChatMessage(role="user", content=previous.content + converted.content)
        else:
            out.append(converted)
    return tuple(out)


def _message(message: MessageIn, where: str, budget: Budget) -> ChatMessage:
    content = message.content
    parts = content if content is None or isinstance(content, str) else [p.model_dump() for p in content]
    blocks = parse_parts(parts, f"{where}.content", budget)
    if message.role in ("system", "developer"):
        return ChatMessage.of_text("system", text_of(blocks))
    if isinstance(message, ToolMessage):
        return ChatMessage(role="user", content=(ToolResultBlock(message.tool_call_id, text_of(blocks)),))
    if isinstance(message, AssistantMessage):
        calls = tuple(
            ToolUseBlock(
                id=call.id,
                name=call.function.name,
                input=arguments(call.function.arguments, f"{where}.tool_calls.{j}.function.arguments"),
            )
            for j, call in enumerate(message.tool_calls or ())
        )
        text = tuple(b for b in blocks if not (isinstance(b, TextBlock) and not b.text and calls))
        return ChatMessage(role="assistant", content=text + calls)
    return ChatMessage(role="user", content=blocks)


def tools(body: ChatCompletionRequest) -> tuple[ToolSpec, ...]:
    return tuple(
        ToolSpec(name=t.function.name, description=t.function.description, input_schema=t.function.parameters)
        for t in body.tools or ()
    )


def stop(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
