"""Quant inference: buffered `chat` and SSE `chat/stream`, both over the core's turn engine."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent

from chatkeep.core.errors import InvalidInput
from chatkeep.core.turn_events import GuardNotice, TurnDone, TurnEvent, TurnFailed, TurnStarted
from chatkeep.core.turns import PreparedTurn, TurnEngine, TurnOptions, TurnRequest
from chatkeep.dialects.caller_config import caller_config
from chatkeep.dialects.quant.chat_schemas import ChatRequest, ChatResponse
from chatkeep.dialects.quant.content import new_budget, parse_content
from chatkeep.dialects.quant.deps import OrgPrincipal
from chatkeep.dialects.turn_responses import TurnEventSource
from chatkeep.providers.base import ChatMessage, TextDelta, ToolCall, ToolSpec

router = APIRouter(tags=["AI Inference"])
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


async def get_engine(request: Request) -> TurnEngine:
    engine: TurnEngine = request.app.state.turns
    return engine


Engine = Annotated[TurnEngine, Depends(get_engine)]


def to_turn_request(body: ChatRequest, principal: OrgPrincipal, request: Request) -> TurnRequest:
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
        response_format=body.responseFormat.model_dump() if body.responseFormat else None,
    )
    return TurnRequest(
        principal=principal,
        messages=messages,
        options=options,
        conversation_id=body.sessionId,
        user_id=body.userId,
        config=caller_config(request),
    )


def _usage(done: TurnDone) -> dict[str, Any]:
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
async def chat(body: ChatRequest, principal: OrgPrincipal, engine: Engine, request: Request) -> Any:
    """Buffered chat: the whole answer in one JSON body (502/504 JSON when the model fails)."""
    prepared = await engine.prepare(to_turn_request(body, principal, request))
    done: TurnDone | None = None
    failure: TurnFailed | None = None
    async for event in engine.stream(prepared):
        if isinstance(event, TurnDone):
            done = event
        elif isinstance(event, TurnFailed):
            failure = event
    if failure is not None or done is None:
        status = failure.status if failure else 502
        message = failure.message if failure else "the model returned no answer"
        retry_after = failure.retry_after if failure else None
        return JSONResponse(
            {"error": failure.kind if failure else "upstream", "message": message},
            status_code=status,
            headers={"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after is not None else None,
        )
    return ChatResponse.model_validate(
        {
            "response": {"role": "assistant", "content": done.text, "toolUse": _tool_use(done.tool_uses)},
            "model": prepared.model.id,
            "requestId": prepared.request_id,
            "finishReason": done.finish_reason,
            "usage": _usage(done),
            "sessionId": str(prepared.conversation_id) if prepared.conversation_id else None,
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
async def chat_stream(
    body: ChatRequest, principal: OrgPrincipal, engine: Engine, request: Request
) -> TurnEventSource:
    """Server-sent events whatever the Accept header says: start, content*, then done or error."""
    prepared = await engine.prepare(to_turn_request(body, principal, request))
    return TurnEventSource(
        _sse(engine, prepared),
        engine=engine,
        prepared=prepared,
        ping=PING_SECONDS,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _sse(engine: TurnEngine, prepared: PreparedTurn) -> AsyncIterator[ServerSentEvent]:
    counter = 0

    def frame(event: str, data: dict[str, Any]) -> ServerSentEvent:
        nonlocal counter
        counter += 1
        return ServerSentEvent(data=orjson.dumps(data).decode(), event=event, id=f"chunk-{counter}")

    events: AsyncIterator[TurnEvent] = engine.stream(prepared)
    async for event in events:
        if isinstance(event, TurnStarted):
            start: dict[str, Any] = {"requestId": event.request_id, "model": event.model, "streaming": True}
            if event.conversation_id:
                start["sessionId"] = str(event.conversation_id)
            yield frame("start", start)
        elif isinstance(event, GuardNotice):
            yield frame("guard", {"notice": event.text, "action": event.action})
        elif isinstance(event, TextDelta):
            yield frame("content", {"delta": event.text, "complete": False})
        elif isinstance(event, TurnDone):
            done: dict[str, Any] = {
                "complete": True,
                "usage": _usage(event),
                "finishReason": event.finish_reason,
                "stopReason": event.finish_reason,
                "content": event.text,
            }
            tool_use = _tool_use(event.tool_uses)
            if tool_use is not None:
                done["toolUse"] = tool_use
            yield frame("done", done)
        elif isinstance(event, TurnFailed):
            error: dict[str, Any] = {"error": event.message, "code": event.kind, "status": event.status}
            if event.retry_after is not None:
                error["retryAfterSeconds"] = max(1, math.ceil(event.retry_after))
            yield frame("error", error)
