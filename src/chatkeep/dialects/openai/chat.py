"""`POST /v1/chat/completions`: buffered or streamed (`data: {chunk}` … `data: [DONE]`), stateless.

Stateless as OpenAI's: the messages are the whole context and nothing but the usage row is stored; the
guards screen every message. A guard block answers as OpenAI's refusals look to the SDK: the message's
`refusal` holds the sentence, `content` is null and `finish_reason` is `content_filter` (so `parse()`
raises the SDK's ContentFilterFinishReasonError, and `create()` returns normally).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter
from sse_starlette import EventSourceResponse, ServerSentEvent

from chatkeep.core.callers import Caller
from chatkeep.core.turns import Turn, TurnDone, TurnFailed, TurnOptions, TurnRequest
from chatkeep.dialects.deps import Engine, OpenAICaller
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.openai import chat_input, errors
from chatkeep.dialects.openai.chat_schemas import ChatCompletionRequest
from chatkeep.dialects.openai.wire import acting_user
from chatkeep.providers.base import TextDelta, ToolCall

router = APIRouter(route_class=OffLoopJSONRoute, tags=["OpenAI: Chat"])
PING_SECONDS = 15
FINISH = {"stop": "stop", "length": "length", "tool_use": "tool_calls", "content_filter": "content_filter"}
MODEL_FAILED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A chat completion, or with `stream` server-sent chunks ending in `data: [DONE]`",
        "content": {"application/json": {}, "text/event-stream": {"schema": {"type": "string"}}},
    },
    404: {"description": "No such model"},
    502: {"description": "The model failed or returned nothing"},
    504: {"description": "The model timed out"},
}


def to_turn_request(body: ChatCompletionRequest, caller: Caller) -> TurnRequest:
    options = TurnOptions(
        model_id=body.model,
        max_tokens=body.max_completion_tokens or body.max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        stop=chat_input.stop(body.stop),
        tools=chat_input.tools(body),
        response_format=body.response_format.output() if body.response_format else None,
    )
    return TurnRequest(
        principal=caller.principal,
        messages=chat_input.messages(body),
        options=options,
        user_id=acting_user(caller, body.user, body.safety_identifier),
        config=caller.config,
    )


def usage(done: TurnDone) -> dict[str, Any]:
    return {
        "prompt_tokens": done.input_tokens,
        "completion_tokens": done.output_tokens,
        "total_tokens": done.input_tokens + done.output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def finish_reason(done: TurnDone, blocked: bool) -> str:
    if blocked:
        return "content_filter"
    return "tool_calls" if done.tool_uses else FINISH.get(done.finish_reason, "stop")


def tool_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(call.input)},
    }


def _head(turn: Turn, created: int, obj: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{turn.request_id}",
        "object": obj,
        "created": created,
        "model": turn.model.id,
        "system_fingerprint": None,
    }


@router.post("/chat/completions", operation_id="openaiCreateChatCompletion", responses=MODEL_FAILED)
async def create_chat_completion(body: ChatCompletionRequest, caller: OpenAICaller, engine: Engine) -> Any:
    """A chat completion for the messages; `stream: true` answers with server-sent chunks."""
    turn = await engine.open(to_turn_request(body, caller))
    created = int(time.time())
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return EventSourceResponse(
            _chunks(turn, created, include_usage),
            ping=PING_SECONDS,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    result = await turn.result()
    if isinstance(result, TurnFailed):
        return errors.render_model_failure(result.kind, result.message, result.retry_after)
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if turn.blocked else (result.text or (None if result.tool_uses else "")),
        "refusal": result.text if turn.blocked else None,
        "annotations": [],
    }
    if result.tool_uses:
        message["tool_calls"] = [tool_call(c) for c in result.tool_uses]
    return {
        **_head(turn, created, "chat.completion"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason(result, turn.blocked),
            }
        ],
        "usage": usage(result),
        "service_tier": "default",
    }


async def _chunks(turn: Turn, created: int, include_usage: bool) -> AsyncIterator[ServerSentEvent]:
    head = _head(turn, created, "chat.completion.chunk")
    calls = 0

    def chunk(delta: dict[str, Any], finish: str | None = None) -> ServerSentEvent:
        body: dict[str, Any] = {
            **head,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            body["usage"] = None
        return ServerSentEvent(data=orjson.dumps(body).decode())

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    async for event in turn.events():
        if isinstance(event, TextDelta):
            yield chunk({"refusal": event.text} if turn.blocked else {"content": event.text})
        elif isinstance(event, ToolCall):
            yield chunk({"tool_calls": [{"index": calls, **tool_call(event)}]})
            calls += 1
        elif isinstance(event, TurnDone):
            yield chunk({}, finish_reason(event, turn.blocked))
            if include_usage:
                yield ServerSentEvent(
                    data=orjson.dumps({**head, "choices": [], "usage": usage(event)}).decode()
                )
        elif isinstance(event, TurnFailed):
            status = errors.failure_status(event.kind)
            error = errors.error_object(event.message, status=status, code=event.kind)
            yield ServerSentEvent(data=orjson.dumps({"error": error}).decode())
    yield ServerSentEvent(data="[DONE]")
