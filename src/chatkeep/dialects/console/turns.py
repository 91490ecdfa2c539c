"""A chat turn from the console: the browser posts the message, the answer streams back as NDJSON lines.

Lines, in order: {"t": "started", "conversation": id}, {"t": "notice", "text", "action"}?,
{"t": "delta", "text"}*, then {"t": "done", "stopped": bool} or {"t": "error", "message"}. The page shows
the text as it arrives and re-renders the conversation (markdown and all) once the stream ends.

The stop button posts to `/chats/{id}/stop`, which stops the conversation's running turn on whichever
replica runs it; what was generated is kept as a cancelled answer. (Closing the request, before the turn
has a conversation to name, cancels the model call too.)
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from chatkeep.core.turns import (
    GuardNotice,
    Turn,
    TurnDone,
    TurnFailed,
    TurnOptions,
    TurnRequest,
    TurnStarted,
)
from chatkeep.core.use_cases import turns
from chatkeep.dialects.console.deps import Acting
from chatkeep.dialects.console.uploads import Upload, content_blocks
from chatkeep.dialects.deps import Engine, Limits
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.providers.base import ChatMessage, TextDelta

router = APIRouter(route_class=OffLoopJSONRoute)
MODES = {"send": "append", "regenerate": "regenerate", "edit": "edit"}


class TurnBody(BaseModel):
    conversation: uuid.UUID | None = None
    mode: Literal["send", "regenerate", "edit"] = "send"
    text: str = Field(default="", max_length=100_000)
    model: str | None = Field(default=None, max_length=255)
    edit_message: uuid.UUID | None = None
    files: list[Upload] = Field(default_factory=list)


def _turn_request(body: TurnBody, visitor: Acting) -> TurnRequest:
    messages: tuple[ChatMessage, ...] = ()
    if body.mode != "regenerate":
        messages = (ChatMessage(role="user", content=content_blocks(body.text, body.files)),)
    return TurnRequest(
        principal=visitor.principal,
        messages=messages,
        options=TurnOptions(model_id=body.model or None),
        conversation_id=body.conversation,
        new_conversation=body.conversation is None,
        mode=MODES[body.mode],  # type: ignore[arg-type]
        edit_message_id=body.edit_message,
        config=visitor.caller.config,
    )


@router.post("/turns", response_class=StreamingResponse)
async def run_turn(body: TurnBody, visitor: Acting, engine: Engine, limits: Limits) -> StreamingResponse:
    """Send a message (or edit one, or regenerate the last answer) and stream the answer."""
    await limits.check_request(principal=visitor.principal, config=visitor.caller.config)
    turn = await engine.open(_turn_request(body, visitor))
    return StreamingResponse(
        _lines(turn),
        media_type="application/x-ndjson",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record) + b"\n"


@router.post("/chats/{conversation_id}/stop", status_code=204, response_class=Response)
async def stop_turn(conversation_id: uuid.UUID, visitor: Acting, engine: Engine) -> Response:
    """Stop the conversation's running answer (the stop button); harmless when nothing runs."""
    await turns.stop(engine, visitor.caller, conversation_id)
    return Response(status_code=204)


async def _lines(turn: Turn) -> AsyncIterator[bytes]:
    async for event in turn.events():
        if isinstance(event, TurnStarted):
            yield _line({"t": "started", "conversation": str(event.conversation_id)})
        elif isinstance(event, GuardNotice):
            yield _line({"t": "notice", "text": event.text, "action": event.action})
        elif isinstance(event, TextDelta):
            yield _line({"t": "delta", "text": event.text})
        elif isinstance(event, TurnDone):
            yield _line({"t": "done", "stopped": event.stopped})
        elif isinstance(event, TurnFailed):
            yield _line({"t": "error", "message": event.message})
