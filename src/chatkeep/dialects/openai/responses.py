"""The Responses API: `POST /v1/responses` (buffered or streamed) and stored responses by id.

Where a response goes: into `conversation` (after its newest message); after `previous_response_id`
(a new branch when that answer is not the newest); with `store` (the default) and neither, into a
conversation of its own; with `store: false`, nowhere (a stateless turn: only usage is recorded).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from chatkeep.core.callers import Caller
from chatkeep.core.errors import InvalidInput, NotFound
from chatkeep.core.turns import TurnDone, TurnFailed, TurnOptions, TurnRequest
from chatkeep.core.use_cases import conversation_items
from chatkeep.core.use_cases import turns as turn_use_cases
from chatkeep.dialects.deps import DB, Engine, OpenAICaller
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.openai import errors, ids, items, response_objects, response_stream
from chatkeep.dialects.openai.content import new_budget
from chatkeep.dialects.openai.conversations import After, Limit, Order
from chatkeep.dialects.openai.item_schemas import as_dicts
from chatkeep.dialects.openai.response_objects import Echo, Outcome
from chatkeep.dialects.openai.response_schemas import ResponseRequest
from chatkeep.dialects.openai.wire import acting_user
from chatkeep.providers.base import ToolSpec

router = APIRouter(route_class=OffLoopJSONRoute, tags=["OpenAI: Responses"])
PING_SECONDS = 15
CANCEL_WAIT_SECONDS = 5.0
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such stored response"}}
CREATED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A response, or with `stream` its server-sent events",
        "content": {"application/json": {}, "text/event-stream": {"schema": {"type": "string"}}},
    },
    404: {"description": "No such model, conversation or previous response"},
    502: {"description": "The model failed"},
    504: {"description": "The model timed out"},
}


async def to_turn_request(db: DB, body: ResponseRequest, caller: Caller) -> TurnRequest:
    """Where the response goes, what the model is given, and who it acts for."""
    options = TurnOptions(
        model_id=body.model,
        system_prompt=body.instructions,
        max_tokens=body.max_output_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        tools=tuple(
            ToolSpec(t.name, t.description or "", t.parameters or {"type": "object", "properties": {}})
            for t in body.tools or ()
        ),
        response_format=body.response_format(),
    )
    messages = tuple(items.to_messages(as_dicts(body.input), "input", new_budget()))
    conversation_id: uuid.UUID | None = None
    parent: uuid.UUID | None = None
    if body.conversation_id is not None:
        conversation_id = ids.decode(
            ids.CONVERSATION, body.conversation_id, field="conversation", subject="conversation"
        )
    elif body.previous_response_id is not None:
        answer = ids.decode(
            ids.RESPONSE, body.previous_response_id, field="previous_response_id", subject="response"
        )
        located = await conversation_items.find(db, caller, answer)
        conversation_id, parent = located.conversation.id, located.message.id
    if conversation_id is not None and not body.store:
        raise InvalidInput(
            "store: false cannot add to a conversation or continue a stored response", field="store"
        )
    return TurnRequest(
        principal=caller.principal,
        messages=messages,
        options=options,
        conversation_id=conversation_id,
        new_conversation=conversation_id is None and body.store,
        user_id=acting_user(caller, body.user, body.safety_identifier),
        parent_message_id=parent,
        all_input_is_new=True,
        config=caller.config,
    )


def _finish(outcome: Outcome, event: TurnDone | TurnFailed) -> None:
    if isinstance(event, TurnFailed):
        outcome.status = "failed"
        code = "rate_limit_exceeded" if event.kind == "rate_limited" else "server_error"
        outcome.error = {"code": code, "message": event.message}
        return
    outcome.input_tokens, outcome.output_tokens = event.input_tokens, event.output_tokens
    outcome.text = event.text
    outcome.calls = list(event.tool_uses)
    if event.stopped:
        outcome.status = "cancelled"
    elif event.finish_reason == "length":
        outcome.status, outcome.truncated = "incomplete", True
    else:
        outcome.status = "completed"


@router.post("/responses", operation_id="openaiCreateResponse", responses=CREATED)
async def create_response(body: ResponseRequest, caller: OpenAICaller, db: DB, engine: Engine) -> Any:
    """A model response to the input; `stream: true` answers with the SDK's server-sent events."""
    turn = await engine.open(await to_turn_request(db, body, caller))
    key = turn.assistant_message_id.hex if turn.assistant_message_id else turn.request_id
    echo = Echo.of(body)
    conversation = ids.encode(ids.CONVERSATION, turn.conversation_id) if turn.conversation_id else None
    created_at = int(time.time())
    outcome = Outcome(refused=turn.blocked)

    def render(state: Outcome) -> dict[str, Any]:
        return response_objects.render(
            response_id=ids.encode(ids.RESPONSE, key),
            message_id=ids.encode(ids.MESSAGE, key),
            created_at=created_at,
            model=turn.model.id,
            conversation_id=conversation,
            outcome=state,
            echo=echo,
        )

    if body.stream:
        return EventSourceResponse(
            response_stream.events(turn, outcome, ids.encode(ids.MESSAGE, key), render, _finish),
            ping=PING_SECONDS,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    result = await turn.result()
    if isinstance(result, TurnFailed):
        return errors.render_model_failure(result.kind, result.message, result.retry_after)
    _finish(outcome, result)
    return render(outcome)


async def _stored(db: DB, caller: Caller, response_id: str) -> conversation_items.Located:
    answer = ids.decode_path(ids.RESPONSE, response_id, subject="response")
    located = await conversation_items.find(db, caller, answer)
    if located.message.role != "assistant":
        raise NotFound(f"Response with id '{response_id}' not found.", field="response")
    return located


async def _render_stored(db: DB, caller: Caller, located: conversation_items.Located) -> dict[str, Any]:
    answered = await conversation_items.input_of(db, caller, located.message.id)
    conversation = ids.encode(ids.CONVERSATION, located.conversation.id)
    return response_objects.from_stored(located.message, conversation, answered.previous)


@router.get("/responses/{response_id}", operation_id="openaiRetrieveResponse", responses=NOT_FOUND)
async def retrieve_response(response_id: str, caller: OpenAICaller, db: DB) -> dict[str, Any]:
    """A stored response, read back from its answer."""
    return await _render_stored(db, caller, await _stored(db, caller, response_id))


@router.delete("/responses/{response_id}", operation_id="openaiDeleteResponse", responses=NOT_FOUND)
async def delete_response(response_id: str, caller: OpenAICaller, db: DB) -> dict[str, Any]:
    """Delete a stored response: its answer leaves the conversation (what followed it stays)."""
    located = await _stored(db, caller, response_id)
    await conversation_items.remove(db, caller, located.conversation.id, located.message.id)
    return {"id": response_id, "object": "response.deleted", "deleted": True}


@router.get(
    "/responses/{response_id}/input_items", operation_id="openaiListResponseInputItems", responses=NOT_FOUND
)
async def list_input_items(
    response_id: str,
    caller: OpenAICaller,
    db: DB,
    after: After = None,
    limit: Limit = 20,
    order: Order = "desc",
) -> dict[str, Any]:
    """The items the response answered (those after the answer before it)."""
    located = await _stored(db, caller, response_id)
    answered = await conversation_items.input_of(db, caller, located.message.id)
    rendered = [item for message in answered.messages for item in items.render(message)]
    return items.page(rendered, after=after, limit=limit, order=order)


@router.post(
    "/responses/{response_id}/cancel",
    operation_id="openaiCancelResponse",
    responses={**NOT_FOUND, 400: {"description": "The response is not in progress"}},
)
async def cancel_response(response_id: str, caller: OpenAICaller, db: DB, engine: Engine) -> dict[str, Any]:
    """Stop a response still being generated (on whichever replica runs it) and return it as it ended."""
    located = await _stored(db, caller, response_id)
    if located.message.status != "in_progress":
        raise InvalidInput("only a response in progress can be cancelled", field="response")
    await turn_use_cases.stop(engine, caller, located.conversation.id)
    deadline = time.monotonic() + CANCEL_WAIT_SECONDS
    while located.message.status == "in_progress" and time.monotonic() < deadline:
        await asyncio.sleep(0.05)  # the turn settles on its own replica; wait to show how it ended
        located = await _stored(db, caller, response_id)
    return await _render_stored(db, caller, located)
