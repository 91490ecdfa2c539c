"""Server-sent-event bodies for recorded HTTP exchanges."""

from __future__ import annotations

import json
from typing import Any


def openai_sse(*chunks: dict[str, Any]) -> bytes:
    """An OpenAI chat-completions stream: one `data:` line per chunk, then [DONE]."""
    lines = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


def openai_chunk(
    content: str | None = None,
    *,
    finish: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    usage: dict[str, int] | None = None,
    no_choices: bool = False,
) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    chunk: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "m",
        "choices": [] if no_choices else [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        chunk["usage"] = {**usage, "total_tokens": sum(usage.values())}
    return chunk


def anthropic_sse(*events: dict[str, Any]) -> bytes:
    """An Anthropic Messages stream: `event: <type>` and `data: <json>` per event."""
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()
