"""Parsing Quant message content (a string or Bedrock-style blocks) into provider blocks, with limits."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Literal

from chatkeep.core.errors import InvalidInput, PayloadTooLarge
from chatkeep.providers.base import ContentBlock, MediaBlock, TextBlock, ToolResultBlock, ToolUseBlock

MAX_PART_BYTES = 25 * 1024 * 1024
MAX_TOTAL_BYTES = 25 * 1024 * 1024
FORMATS: dict[str, frozenset[str]] = {
    "image": frozenset({"png", "jpeg", "gif", "webp"}),
    "video": frozenset({"mp4", "mov", "mkv", "webm"}),
    # The spec lists pdf, csv, docx and xlsx; real apps also send these text and office formats.
    "document": frozenset({"pdf", "csv", "docx", "xlsx", "txt", "md", "html", "doc", "xls"}),
}


class _Budget:
    """Counts decoded media bytes across one request."""

    def __init__(self) -> None:
        self.used = 0

    def take(self, size: int) -> None:
        self.used += size
        if self.used > MAX_TOTAL_BYTES:
            raise PayloadTooLarge(f"media in one request may total at most {MAX_TOTAL_BYTES} bytes")


def parse_content(
    content: str | list[dict[str, Any]], where: str, budget: _Budget
) -> tuple[ContentBlock, ...]:
    """Blocks for one message; `where` names the message in errors (e.g. messages.2.content)."""
    if isinstance(content, str):
        return (TextBlock(content),)
    if not content:
        raise InvalidInput("content must not be an empty list", field=where)
    return tuple(_parse_block(block, f"{where}.{i}", budget) for i, block in enumerate(content))


def new_budget() -> _Budget:
    return _Budget()


def _parse_block(block: dict[str, Any], where: str, budget: _Budget) -> ContentBlock:
    kinds = [k for k in ("text", "image", "video", "document", "toolUse", "toolResult") if k in block]
    if len(kinds) != 1:
        raise InvalidInput(
            "each content block needs exactly one of text, image, video, document, toolUse, toolResult",
            field=where,
        )
    kind = kinds[0]
    value = block[kind]
    if kind == "text":
        if not isinstance(value, str):
            raise InvalidInput("text must be a string", field=f"{where}.text")
        return TextBlock(value)
    if kind == "toolUse":
        return _tool_use(value, f"{where}.toolUse")
    if kind == "toolResult":
        return _tool_result(value, f"{where}.toolResult")
    return _media(kind, value, f"{where}.{kind}", budget)


def _media(
    kind: Literal["image", "video", "document"], value: Any, where: str, budget: _Budget
) -> MediaBlock:
    if not isinstance(value, dict):
        raise InvalidInput(f"{kind} must be an object", field=where)
    fmt = value.get("format")
    if not isinstance(fmt, str) or fmt not in FORMATS[kind]:
        allowed = ", ".join(sorted(FORMATS[kind]))
        raise InvalidInput(f"{kind} format must be one of {allowed}", field=f"{where}.format")
    source = value.get("source")
    raw = source.get("bytes") if isinstance(source, dict) else None
    if not isinstance(raw, str) or not raw:
        raise InvalidInput(f"{kind} needs source.bytes (base64)", field=f"{where}.source.bytes")
    # Check the declared size before decoding so an oversized part is refused without decoding it.
    if len(raw) * 3 // 4 > MAX_PART_BYTES + 2:
        raise PayloadTooLarge(f"each {kind} may be at most {MAX_PART_BYTES} bytes")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            f"{kind} source.bytes is not valid base64", field=f"{where}.source.bytes"
        ) from None
    budget.take(len(data))
    name = value.get("name")
    if kind == "document" and not (isinstance(name, str) and name):
        raise InvalidInput("document needs a name", field=f"{where}.name")
    return MediaBlock(kind=kind, format=fmt, data=data, name=name if isinstance(name, str) else None)


def _tool_use(value: Any, where: str) -> ToolUseBlock:
    if not isinstance(value, dict) or not isinstance(value.get("toolUseId"), str) or not value.get("name"):
        raise InvalidInput("toolUse needs toolUseId and name", field=where)
    tool_input = value.get("input", {})
    if not isinstance(tool_input, dict):
        raise InvalidInput("toolUse input must be an object", field=f"{where}.input")
    return ToolUseBlock(id=value["toolUseId"], name=str(value["name"]), input=tool_input)


def _tool_result(value: Any, where: str) -> ToolResultBlock:
    if not isinstance(value, dict) or not isinstance(value.get("toolUseId"), str):
        raise InvalidInput("toolResult needs toolUseId", field=where)
    parts = value.get("content", [])
    if isinstance(parts, str):
        return ToolResultBlock(tool_use_id=value["toolUseId"], content=parts)
    if not isinstance(parts, list):
        raise InvalidInput("toolResult content must be a list", field=f"{where}.content")
    texts = []
    for part in parts:
        if isinstance(part, dict) and "text" in part:
            texts.append(str(part["text"]))
        elif isinstance(part, dict) and "json" in part:
            texts.append(json.dumps(part["json"], ensure_ascii=False))
    return ToolResultBlock(tool_use_id=value["toolUseId"], content="\n".join(texts))
