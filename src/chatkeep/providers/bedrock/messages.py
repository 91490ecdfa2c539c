"""A ChatRequest as the arguments of Bedrock's Converse / ConverseStream."""

from __future__ import annotations

import re
from typing import Any

from chatkeep.providers.base import (
    ChatRequest,
    ContentBlock,
    MediaBlock,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from chatkeep.providers.media import normalised_format
from chatkeep.providers.structured_output import ANSWER_TOOL, ANSWER_TOOL_DESCRIPTION, answer_schema

# Converse document names allow letters, digits, single spaces, hyphens, parentheses, brackets.
_NAME_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9\-\(\)\[\] ]+")


def converse_params(request: ChatRequest) -> dict[str, Any]:
    """Keyword arguments for `converse_stream`."""
    params: dict[str, Any] = {"modelId": request.model, "messages": converse_messages(request)}
    system = [request.system] if request.system else []
    system += [m.text for m in request.messages if m.role == "system"]
    if system:
        params["system"] = [{"text": text} for text in system]
    inference: dict[str, Any] = {"maxTokens": request.max_tokens}
    if request.temperature is not None:
        inference["temperature"] = request.temperature
    if request.top_p is not None:
        inference["topP"] = request.top_p
    if request.stop:
        inference["stopSequences"] = list(request.stop)
    params["inferenceConfig"] = inference
    tools = [_tool_spec(t.name, t.description, t.input_schema) for t in request.tools]
    if request.response_format is not None:
        # Structured output through a forced tool (see structured_output); Converse has no JSON mode
        # that every model takes. With tools of the client's own, the model may call any of them.
        schema = answer_schema(request.response_format)
        tools.append(_tool_spec(ANSWER_TOOL, ANSWER_TOOL_DESCRIPTION, schema))
        choice = {"any": {}} if request.tools else {"tool": {"name": ANSWER_TOOL}}
        params["toolConfig"] = {"tools": tools, "toolChoice": choice}
    elif tools:
        params["toolConfig"] = {"tools": tools}
    return params


def _tool_spec(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"toolSpec": {"name": name, "description": description, "inputSchema": {"json": schema}}}


def converse_messages(request: ChatRequest) -> list[dict[str, Any]]:
    """User and assistant turns; tool results travel in user turns; same-role neighbours merged."""
    out: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = [_block(b, i) for i, b in enumerate(message.content)]
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return out


def _block(block: ContentBlock, position: int) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"text": block.text}
    if isinstance(block, ToolUseBlock):
        return {"toolUse": {"toolUseId": block.id, "name": block.name, "input": block.input}}
    if isinstance(block, ToolResultBlock):
        return {"toolResult": {"toolUseId": block.tool_use_id, "content": [{"text": block.content}]}}
    return _media(block, position)


def _media(block: MediaBlock, position: int) -> dict[str, Any]:
    fmt = normalised_format(block)
    source = {"bytes": block.data}
    if block.kind == "document":
        return {"document": {"format": fmt, "name": document_name(block.name, position), "source": source}}
    if block.kind == "video":
        return {"video": {"format": fmt, "source": source}}
    return {"image": {"format": fmt, "source": source}}


def document_name(name: str | None, position: int) -> str:
    """A name Converse accepts: its allowed characters, no runs of spaces, never empty."""
    stem = (name or "").rsplit(".", 1)[0]
    cleaned = " ".join(_NAME_NOT_ALLOWED.sub(" ", stem).split())
    return cleaned[:200] or f"document {position + 1}"
