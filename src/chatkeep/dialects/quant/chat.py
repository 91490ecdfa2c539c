"""Quant inference: buffered `chat` and SSE `chat/stream`, both over the core's turn engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter
from sse_starlette import EventSourceResponse, ServerSentEvent

from chatkeep.core.callers import Caller
from chatkeep.core.errors import InvalidInput
from chatkeep.core.turns import GuardNotice, Turn, TurnDone, TurnFailed, TurnOptions, TurnRequest, TurnStarted
from chatkeep.dialects.deps import Engine, QuantCaller
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.quant import errors
from chatkeep.dialects.quant.chat_schemas import ChatRequest, ChatResponse
from chatkeep.dialects.quant.content import new_budget, parse_content
from chatkeep.providers.base import ChatMessage, JsonOutput, TextDelta, ToolCall, ToolSpec

router = APIRouter(route_class=OffLoopJSONRoute, tags=["AI Inference"])
DEFAULT_MAX_TOKENS = 1024
DEFAULT_TEMPERATURE = 0.7
PING_SECONDS = 15
# One server-sent event as `_sse` writes it (OpenAPI 3.1: a stream's `schema` describes each event).
STREAM_EVENT = {
    "type": "object",
    "required": ["id", "event", "data"],
    "properties": {
        "id": {"type": "string", "pattern": "^chunk-[0-9]+$"},
        "event": {"enum": ["start", "guard", "content", "done", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}


def to_turn_request(body: ChatRequest, caller: Caller) -> TurnRequest:
    """Translate the wire request; content blocks are decoded and size-checked here."""
    if body.async_:
        raise InvalidInput("asynchronous execution is not supported; omit `async`", field="async")
    budget = new_budget()
    messages = tuple(
        ChatMessage(role=m.role, content=parse_content(m.content, f"messages.{i}.content", budget))
        for i, m in enumerate(body.messages)
    )
    tools = tuple(
        ToolSpec(
            name=t.toolSpec.name,
            description=t.toolSpec.description,
            input_schema=t.toolSpec.inputSchema.json_,
        )
        for t in (body.toolConfig.tools if body.toolConfig else [])
    )
    options = TurnOptions(
        model_id=body.modelId,
        system_prompt=body.systemPrompt,
        max_tokens=body.maxTokens,
        temperature=body.temperature,
        top_p=body.topP,
        stop=tuple(body.stopSequences or ()),
        tools=tools,
        response_format=JsonOutput(schema=body.responseFormat.jsonSchema) if body.responseFormat else None,
        # The Quant documents' defaults, where neither the request, the session nor the organisation sets one.
        default_max_tokens=DEFAULT_MAX_TOKENS,
        default_temperature=DEFAULT_TEMPERATURE,
    )
    return TurnRequest(
        principal=caller.principal,
        messages=messages,
        options=options,
        conversation_id=body.sessionId,
        user_id=body.userId,
        config=caller.config,
    )


def usage_of(done: TurnDone) -> dict[str, Any]:
    return {
        "inputTokens": done.input_tokens,
        "outputTokens": done.output_tokens,
        "totalTokens": done.input_tokens + done.output_tokens,
        "costCents": done.cost_cents,
    }


def _tool_use(uses: tuple[ToolCall, ...]) -> dict[str, Any] | list[dict[str, Any]] | None:
    """One tool → an object, several → a list, none → omitted (the spec's three response patterns)."""
    rendered = [{"toolUseId": u.id, "name": u.name, "input": u.input} for u in uses]
    if not rendered:
        return None
    return rendered[0] if len(rendered) == 1 else rendered


# Failures before anything is generated; the buffered call also answers the model's own failures.
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such session (absent, expired or not visible) or model"}
}
MODEL_FAILED: dict[int | str, dict[str, Any]] = {
    502: {"description": "The model failed or returned nothing"},
    504: {"description": "The model timed out"},
}


@router.post(
    "/chat",
    response_model=ChatResponse,
    response_model_exclude_none=True,
    operation_id="chatInference",
    responses={**NOT_FOUND, **MODEL_FAILED},
)
async def chat(body: ChatRequest, caller: QuantCaller, engine: Engine) -> Any:
    """Buffered chat: the whole answer in one JSON body (502/504 JSON when the model fails)."""
    turn = await engine.open(to_turn_request(body, caller))
    result = await turn.result()
    if isinstance(result, TurnFailed):
        return errors.render_model_failure(result.kind, result.message, result.retry_after)
    return ChatResponse.model_validate(
        {
            "response": {"role": "assistant", "content": result.text, "toolUse": _tool_use(result.tool_uses)},
            "model": turn.model.id,
            "requestId": turn.request_id,
            "finishReason": result.finish_reason,
            "usage": usage_of(result),
            "sessionId": str(turn.conversation_id) if turn.conversation_id else None,
        }
    )


@router.post(
    "/chat/stream",
    operation_id="chatInferenceStream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "Events start, content…, then done or error (a model failure is an error event)",
            "content": {"text/event-stream": {"schema": STREAM_EVENT}},
        },
        **NOT_FOUND,
    },
)
async def chat_stream(body: ChatRequest, caller: QuantCaller, engine: Engine) -> EventSourceResponse:
    """Server-sent events whatever the Accept header says: start, content*, then done or error."""
    turn = await engine.open(to_turn_request(body, caller))
    return EventSourceResponse(
        _sse(turn),
        ping=PING_SECONDS,
        # LF line ends: hand-written clients split on "\n" (the default CRLF leaves "event: content\r").
        sep="\n",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _sse(turn: Turn) -> AsyncIterator[ServerSentEvent]:
    counter = 0

    def frame(event: str, data: dict[str, Any]) -> ServerSentEvent:
        nonlocal counter
        counter += 1
        return ServerSentEvent(data=orjson.dumps(data).decode(), event=event, id=f"chunk-{counter}", sep="\n")

    async for event in turn.events():
        if isinstance(event, TextDelta):  # nearly every event: tested first
            yield frame("content", {"delta": event.text, "complete": False})
        elif isinstance(event, TurnStarted):
            start: dict[str, Any] = {"requestId": event.request_id, "model": event.model, "streaming": True}
            if event.conversation_id:
                start["sessionId"] = str(event.conversation_id)
            yield frame("start", start)
        elif isinstance(event, GuardNotice):
            yield frame("guard", {"notice": event.text, "action": event.action})
        elif isinstance(event, TurnDone):
            done: dict[str, Any] = {
                "complete": True,
                "usage": usage_of(event),
                "finishReason": event.finish_reason,
                "stopReason": event.finish_reason,
                "content": event.text,
            }
            tool_use = _tool_use(event.tool_uses)
            if tool_use is not None:
                done["toolUse"] = tool_use
            yield frame("done", done)
        elif isinstance(event, TurnFailed):
            error: dict[str, Any] = {
                "error": event.message,
                "code": event.kind,
                "status": errors.failure_status(event.kind),
            }
            seconds = errors.retry_after_seconds(event.retry_after)
            if seconds is not None:
                error["retryAfterSeconds"] = seconds
            yield frame("error", error)
