"""Response objects (`object: "response"`) from a finished turn or from a stored answer.

A response's id is `resp_<answer message>`; its output message's id `msg_<same>`. A guard block is an
OpenAI refusal: the output message holds one `refusal` part (and no `output_text`), status `completed`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from chatkeep.core.content import json_to_blocks
from chatkeep.core.turns.turn import REFUSAL
from chatkeep.dialects.openai import ids
from chatkeep.dialects.openai.response_schemas import ResponseRequest
from chatkeep.providers.base import TextBlock, ToolCall, ToolUseBlock
from chatkeep.storage.models import Message

STATUS = {"complete": "completed", "in_progress": "in_progress", "failed": "failed", "cancelled": "cancelled"}


@dataclass(slots=True)
class Echo:
    """What a response repeats of its request (unknown when it is read back later)."""

    instructions: str | None = None
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    text_format: dict[str, Any] = field(default_factory=lambda: {"type": "text"})
    metadata: dict[str, str] = field(default_factory=dict)
    previous_response_id: str | None = None
    store: bool = True
    user: str | None = None

    @classmethod
    def of(cls, body: ResponseRequest) -> Echo:
        fmt = body.text.format.model_dump(by_alias=True, exclude_none=True) if body.text else {"type": "text"}
        return cls(
            instructions=body.instructions,
            max_output_tokens=body.max_output_tokens,
            temperature=body.temperature,
            top_p=body.top_p,
            tools=[t.model_dump(exclude_none=True) for t in body.tools or ()],
            text_format=fmt,
            metadata=body.metadata or {},
            previous_response_id=body.previous_response_id,
            store=body.store,
            user=body.user,
        )


@dataclass(slots=True)
class Outcome:
    """How far a response got: what the output holds and how it ended."""

    status: str = "in_progress"
    text: str = ""
    calls: list[ToolCall] = field(default_factory=list)
    refused: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    truncated: bool = False
    error: dict[str, str] | None = None


def output_text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(item_id: str, outcome: Outcome, status: str) -> dict[str, Any]:
    part = {"type": "refusal", "refusal": outcome.text} if outcome.refused else output_text_part(outcome.text)
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": [part]}


def call_item(call: ToolCall, status: str = "completed") -> dict[str, Any]:
    return {
        "id": f"fc_{call.id}",
        "type": "function_call",
        "status": status,
        "call_id": call.id,
        "name": call.name,
        "arguments": json.dumps(call.input),
    }


def output(message_id: str, outcome: Outcome) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if outcome.text or not outcome.calls:
        done = outcome.status in ("completed", "incomplete")
        items.append(message_item(message_id, outcome, "completed" if done else "incomplete"))
    return items + [call_item(c) for c in outcome.calls]


def render(
    *,
    response_id: str,
    message_id: str,
    created_at: int,
    model: str,
    conversation_id: str | None,
    outcome: Outcome,
    echo: Echo,
) -> dict[str, Any]:
    """The whole response object as the SDK's `Response` type reads it."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": outcome.status,
        "background": False,
        "error": outcome.error,
        "incomplete_details": {"reason": "max_output_tokens"} if outcome.truncated else None,
        "instructions": echo.instructions,
        "max_output_tokens": echo.max_output_tokens,
        "model": model,
        "output": [] if outcome.status == "in_progress" else output(message_id, outcome),
        "parallel_tool_calls": True,
        "previous_response_id": echo.previous_response_id,
        "conversation": {"id": conversation_id} if conversation_id else None,
        "store": echo.store,
        "temperature": echo.temperature,
        "top_p": echo.top_p,
        "text": {"format": echo.text_format},
        "tool_choice": "auto",
        "tools": echo.tools,
        "truncation": "disabled",
        "usage": None if outcome.status == "in_progress" else usage(outcome),
        "user": echo.user,
        "metadata": echo.metadata,
    }


def usage(outcome: Outcome) -> dict[str, Any]:
    return {
        "input_tokens": outcome.input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": outcome.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": outcome.input_tokens + outcome.output_tokens,
    }


def from_stored(answer: Message, conversation_id: str, previous: Message | None = None) -> dict[str, Any]:
    """A stored answer read back as the response that produced it (`previous`: the answer before it)."""
    blocks = json_to_blocks(answer.content, answer.blocks)
    status = STATUS.get(answer.status, "completed")
    outcome = Outcome(
        status=status,
        text="".join(b.text for b in blocks if isinstance(b, TextBlock)),
        calls=[ToolCall(b.id, b.name, b.input) for b in blocks if isinstance(b, ToolUseBlock)],
        input_tokens=answer.input_tokens or 0,
        output_tokens=answer.output_tokens or 0,
        error={"code": "server_error", "message": "the model failed"} if status == "failed" else None,
    )
    outcome.refused = outcome.text == REFUSAL and not outcome.calls
    return render(
        response_id=ids.encode(ids.RESPONSE, answer.id),
        message_id=ids.encode(ids.MESSAGE, answer.id),
        created_at=int(answer.created_at.timestamp()) if answer.created_at else int(time.time()),
        model=answer.model or "",
        conversation_id=conversation_id,
        outcome=outcome,
        echo=Echo(previous_response_id=ids.encode(ids.RESPONSE, previous.id) if previous else None),
    )
