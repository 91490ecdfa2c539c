"""Structured output through a forced tool, for backends without a native JSON mode (Anthropic, Bedrock).

The request gets one extra tool whose input schema is the wanted schema, and the model is made to call
it; the tool's input, streamed as JSON text in pieces, is the answer. Callers turn those pieces into
TextDelta events, so the client sees the JSON text stream in as any answer does, and the finish reason
is `stop` rather than `tool_use`.
"""

from __future__ import annotations

from typing import Any

from chatkeep.providers.base import JsonOutput, UnsupportedFeature

ANSWER_TOOL = "json_answer"
ANSWER_TOOL_DESCRIPTION = "Give the complete answer as the tool's input. Always call this tool to answer."
ANY_OBJECT: dict[str, Any] = {"type": "object"}


def answer_schema(output: JsonOutput) -> dict[str, Any]:
    """The schema the answer tool takes: the requested one, which must describe a JSON object."""
    schema = output.schema or ANY_OBJECT
    if schema.get("type", "object") != "object":
        raise UnsupportedFeature(
            "structured_output",
            "this model answers in JSON through a tool call, so the schema's top level must be an object",
        )
    return schema
