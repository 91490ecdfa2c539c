"""The JSON schema of a Quant content block: what quant/content.py accepts, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from chatkeep.dialects.quant.content import FORMATS

# Strict base64 as content.py decodes it (validate=True): groups of four, `=` padding only at the end.
BASE64 = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


def _media(kind: str, *, named: bool = False) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["format", "source", *(["name"] if named else [])],
        "properties": {
            "format": {"enum": sorted(FORMATS[kind])},
            "source": {
                "type": "object",
                "required": ["bytes"],
                "properties": {"bytes": {"type": "string", "minLength": 4, "pattern": BASE64}},
            },
            **({"name": {"type": "string", "minLength": 1}} if named else {}),
        },
    }


_TOOL_USE = {
    "type": "object",
    "required": ["toolUseId", "name"],
    "properties": {
        "toolUseId": {"type": "string"},
        "name": {"type": "string", "minLength": 1},
        "input": {"type": "object"},
    },
}
_TOOL_RESULT = {
    "type": "object",
    "required": ["toolUseId"],
    "properties": {
        "toolUseId": {"type": "string"},
        "content": {"anyOf": [{"type": "string"}, {"type": "array"}]},
    },
}
_BLOCKS: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "image": _media("image"),
    "video": _media("video"),
    "document": _media("document", named=True),
    "toolUse": _TOOL_USE,
    "toolResult": _TOOL_RESULT,
}
# A block holds exactly one of these keys, as content.py enforces; other keys are ignored.
CONTENT_BLOCK = {
    "title": "ContentBlock",
    "oneOf": [
        {
            "type": "object",
            "required": [kind],
            "properties": {kind: schema},
            "not": {"anyOf": [{"required": [other]} for other in _BLOCKS if other != kind]},
        }
        for kind, schema in _BLOCKS.items()
    ],
}
