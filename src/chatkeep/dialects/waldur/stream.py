"""Waldur `POST /api/chat/stream/`: one turn, streamed as NDJSON records.

Records: `{"m": {"thread_uuid"}}` first; `{"w": notice}` when a guard acted; `{"k": "markdown", "c": text}`
for answer text; `{"e": message}` on failure; and last `{"m": {"user_message_uuid", "assistant_message_uuid",
"done": true}}`. `done` is our end-of-stream marker (existing clients ignore unknown keys), so a truncated
body can be told from a finished one. The thread's title is set from the first input when it is created,
so nothing runs after the last record.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from chatkeep.core.errors import InvalidInput, NotFound
from chatkeep.core.turns import GuardNotice, Turn, TurnFailed, TurnRequest, TurnStarted
from chatkeep.dialects.deps import Engine, WaldurCaller
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.storable_input import require_storable_input
from chatkeep.dialects.waldur.errors import STREAM_NOT_FOUND
from chatkeep.providers.base import ChatMessage, TextDelta

router = APIRouter(
    route_class=OffLoopJSONRoute, tags=["chat"], dependencies=[Depends(require_storable_input)]
)

MODES = {None: "append", "reload": "regenerate", "edit": "edit"}


# The mode rules of `_modes` below, stated in the schema so clients (and the fuzzer) can see them.
MODE_RULES: dict[str, Any] = {
    "anyOf": [
        {
            "title": "new message",
            "properties": {"mode": {"type": "null"}, "edit_message_uuid": {"type": "null"}},
        },
        {
            "title": "reload",
            "properties": {
                "mode": {"const": "reload"},
                "thread_uuid": {"type": "string"},
                "edit_message_uuid": {"type": "null"},
            },
            "required": ["mode", "thread_uuid"],
        },
        {
            "title": "edit",
            "properties": {
                "mode": {"const": "edit"},
                "thread_uuid": {"type": "string"},
                "edit_message_uuid": {"type": "string"},
            },
            "required": ["mode", "thread_uuid", "edit_message_uuid"],
        },
    ]
}


class StreamRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", json_schema_extra=MODE_RULES)

    input: str = Field(min_length=1, max_length=50_000)
    thread_uuid: uuid.UUID | None = None
    mode: Literal["reload", "edit"] | None = None
    edit_message_uuid: uuid.UUID | None = None

    @model_validator(mode="after")
    def _modes(self) -> StreamRequest:
        if self.mode is not None and self.thread_uuid is None:
            raise InvalidInput("mode requires thread_uuid to be provided.", field="mode")
        if self.mode == "edit" and self.edit_message_uuid is None:
            raise InvalidInput("edit_message_uuid is required when mode='edit'.", field="edit_message_uuid")
        if self.mode != "edit" and self.edit_message_uuid is not None:
            raise InvalidInput("edit_message_uuid is only valid with mode='edit'.", field="edit_message_uuid")
        return self


def _line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record) + b"\n"


@router.post(
    "/api/chat/stream/",
    operation_id="chat_stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One compact JSON record per line (see this module's docstring)",
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        },
        404: {"description": "No such thread or message, or not the caller's"},
    },
)
async def chat_stream(body: StreamRequest, caller: WaldurCaller, engine: Engine) -> StreamingResponse:
    """Stream an answer into a thread (a new one when `thread_uuid` is absent)."""
    request = TurnRequest(
        principal=caller.principal,
        messages=(ChatMessage.of_text("user", body.input),),
        conversation_id=body.thread_uuid,
        new_conversation=body.thread_uuid is None,
        mode=MODES[body.mode],  # type: ignore[arg-type]
        edit_message_id=body.edit_message_uuid,
        own_conversation_only=True,  # Waldur: staff may read anyone's thread, but post only into their own
        config=caller.config,
    )
    try:
        turn = await engine.open(request)
    except NotFound as exc:
        raise NotFound(STREAM_NOT_FOUND.get(exc.field or "", STREAM_NOT_FOUND["message"])) from None
    return StreamingResponse(
        _records(turn),
        media_type="application/x-ndjson",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _records(turn: Turn) -> AsyncIterator[bytes]:
    final: dict[str, Any] = {"done": True}
    async for event in turn.events():
        if isinstance(event, TurnStarted):
            assert event.conversation_id is not None
            yield _line({"m": {"thread_uuid": event.conversation_id.hex}})
            if event.user_message_ids:
                final["user_message_uuid"] = event.user_message_ids[-1].hex
            if event.assistant_message_id:
                final["assistant_message_uuid"] = event.assistant_message_id.hex
        elif isinstance(event, GuardNotice):
            yield _line({"w": event.text})
        elif isinstance(event, TextDelta):
            yield _line({"k": "markdown", "c": event.text})
        elif isinstance(event, TurnFailed):
            yield _line(
                {"e": "Chat processing was interrupted. Please try again later. (" + event.message + ")"}
            )
    yield _line({"m": final})
