"""A ChatRequest as the body of an Anthropic Messages API call."""

from __future__ import annotations

from typing import Any

from chatkeep.providers.base import (
    ChatRequest,
    ContentBlock,
    MediaBlock,
    ProviderError,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from chatkeep.providers.media import base64_data, document_text, mime_type
from chatkeep.providers.structured_output import ANSWER_TOOL, ANSWER_TOOL_DESCRIPTION, answer_schema


def message_params(request: ChatRequest) -> dict[str, Any]:
    """Keyword arguments for `messages.create`, without `stream`."""
    system = [request.system] if request.system else []
    system += [m.text for m in request.messages if m.role == "system"]
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": anthropic_messages(request),
    }
    if system:
        params["system"] = "\n\n".join(system)
    if request.stop:
        params["stop_sequences"] = list(request.stop)
    tools = [
        {"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in request.tools
    ]
    if request.response_format is not None:
        # Structured output through a forced tool (see structured_output); with tools of the client's
        # own, the model may call any tool, the answer tool included.
        schema = answer_schema(request.response_format)
        tools.append({"name": ANSWER_TOOL, "description": ANSWER_TOOL_DESCRIPTION, "input_schema": schema})
        params["tool_choice"] = {"type": "any"} if request.tools else {"type": "tool", "name": ANSWER_TOOL}
    if tools:
        params["tools"] = tools
    # The SDK no longer types the sampling options; the API takes them, but newer models refuse
    # temperature and top_p together, so top_p is sent only on its own.
    sampling: dict[str, float] = {}
    if request.temperature is not None:
        sampling["temperature"] = request.temperature
    elif request.top_p is not None:
        sampling["top_p"] = request.top_p
    if sampling:
        params["extra_body"] = sampling
    return params


def anthropic_messages(request: ChatRequest) -> list[dict[str, Any]]:
    """User and assistant turns (tool results travel in user turns); same-role neighbours merged."""
    out: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = [_block(b) for b in message.content]
        # Tool results must come first in their user turn.
        blocks.sort(key=lambda b: b["type"] != "tool_result")
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return out


def _block(block: ContentBlock) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    if isinstance(block, ToolUseBlock):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    if isinstance(block, ToolResultBlock):
        return {"type": "tool_result", "tool_use_id": block.tool_use_id, "content": block.content}
    return _media(block)


def _media(block: MediaBlock) -> dict[str, Any]:
    if block.kind == "image":
        source = {"type": "base64", "media_type": mime_type(block), "data": base64_data(block)}
        return {"type": "image", "source": source}
    if block.kind == "document":
        text = document_text(block)
        if text is not None:
            source = {"type": "text", "media_type": "text/plain", "data": text}
        elif mime_type(block) == "application/pdf":
            source = {"type": "base64", "media_type": "application/pdf", "data": base64_data(block)}
        else:
            raise ProviderError("bad_request", f"Anthropic models cannot read {block.format} documents")
        result: dict[str, Any] = {"type": "document", "source": source}
        if block.name:
            result["title"] = block.name
        return result
    raise ProviderError("bad_request", "Anthropic models cannot take video")
