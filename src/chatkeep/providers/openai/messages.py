"""A ChatRequest as the body of an OpenAI chat-completions call (messages, tools, options)."""

from __future__ import annotations

import json
from typing import Any

from chatkeep.providers.base import (
    ChatMessage,
    ChatRequest,
    JsonOutput,
    MediaBlock,
    ProviderError,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from chatkeep.providers.media import data_url, document_text


def completion_params(request: ChatRequest) -> dict[str, Any]:
    """Keyword arguments for `chat.completions.create`, without the streaming options."""
    params: dict[str, Any] = {
        "model": request.model,
        "messages": openai_messages(request),
        "max_tokens": request.max_tokens,
    }
    if request.temperature is not None:
        params["temperature"] = request.temperature
    if request.top_p is not None:
        params["top_p"] = request.top_p
    if request.stop:
        params["stop"] = list(request.stop)
    if request.tools:
        params["tools"] = [
            {
                "type": "function",
                "function": {"name": t.name, "description": t.description, "parameters": t.input_schema},
            }
            for t in request.tools
        ]
    if request.response_format is not None:
        params["response_format"] = response_format(request.response_format)
    return params


def response_format(output: JsonOutput) -> dict[str, Any]:
    """Structured output as OpenAI's `response_format`: `json_schema` with a schema, else `json_object`."""
    if output.schema is None:
        return {"type": "json_object"}
    return {"type": "json_schema", "json_schema": {"name": output.name, "schema": output.schema}}


def openai_messages(request: ChatRequest) -> list[dict[str, Any]]:
    """The system prompt and the conversation as OpenAI chat messages."""
    out: list[dict[str, Any]] = []
    if request.system:
        out.append({"role": "system", "content": request.system})
    for message in request.messages:
        if message.role == "system":
            out.append({"role": "system", "content": message.text})
        elif message.role == "assistant":
            out.append(_assistant_message(message))
        else:
            out.extend(_user_messages(message))
    return out


def _assistant_message(message: ChatMessage) -> dict[str, Any]:
    calls = [
        {
            "id": b.id,
            "type": "function",
            "function": {"name": b.name, "arguments": json.dumps(b.input)},
        }
        for b in message.content
        if isinstance(b, ToolUseBlock)
    ]
    result: dict[str, Any] = {"role": "assistant", "content": message.text or None}
    if calls:
        result["tool_calls"] = calls
    return result


def _user_messages(message: ChatMessage) -> list[dict[str, Any]]:
    """Tool results become `tool` messages (first: they answer the previous turn); the rest a user one."""
    out: list[dict[str, Any]] = [
        {"role": "tool", "tool_call_id": b.tool_use_id, "content": b.content}
        for b in message.content
        if isinstance(b, ToolResultBlock)
    ]
    parts = [_part(b) for b in message.content if isinstance(b, TextBlock | MediaBlock)]
    if parts:
        only_text = all(p["type"] == "text" for p in parts)
        content: str | list[dict[str, Any]] = "".join(p["text"] for p in parts) if only_text else parts
        out.append({"role": "user", "content": content})
    return out


def _part(block: TextBlock | MediaBlock) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if block.kind == "image":
        return {"type": "image_url", "image_url": {"url": data_url(block)}}
    if block.kind == "document":
        text = document_text(block)
        if text is not None:
            return {
                "type": "text",
                "text": f"<document name={block.name or 'document'!r}>\n{text}\n</document>",
            }
        return {
            "type": "file",
            "file": {"filename": block.name or f"document.{block.format}", "file_data": data_url(block)},
        }
    raise ProviderError("bad_request", "OpenAI-compatible chat completions cannot take video")
