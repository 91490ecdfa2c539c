"""Waldur chat messages: every visible message, not paginated, optionally with superseded versions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from chatkeep.core.message_versions import MessageVersion
from chatkeep.core.use_cases import feedback as feedback_use
from chatkeep.core.use_cases import messages as message_use
from chatkeep.dialects.deps import DB, WaldurCaller
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.waldur import render
from chatkeep.dialects.waldur.params import QueryErrors, UuidText, boolean, path_uuid
from chatkeep.dialects.waldur.schemas import BadRequest, ErrorOut, FeedbackIn, MessageOut

router = APIRouter(route_class=OffLoopJSONRoute, tags=["chat-messages"], responses={401: {"model": ErrorOut}})
# Waldur's message role enum has only these two; system and tool rows stay out of this view.
WALDUR_ROLES = frozenset({"user", "assistant"})


@router.get(
    "/chat-messages/",
    operation_id="chat_messages_list",
    response_model=None,
    response_class=StreamingResponse,
    responses={
        200: {"model": list[MessageOut], "content": {"application/json": {}}},
        400: {"model": BadRequest},
    },
)
async def list_messages(
    caller: WaldurCaller,
    db: DB,
    thread: Annotated[UuidText, Query(description="Thread UUID; an invisible thread gives [].")] = None,
    include_history: Annotated[str | None, Query(description="true: superseded versions too.")] = None,
    is_flagged: Annotated[str | None, Query()] = None,
    feedback_score: Annotated[str | None, Query()] = None,
) -> Response:
    """Messages ordered by sequence index, then creation; detection fields only for staff callers.

    Not paginated (as in Waldur), so the array is streamed as it is read, a batch of messages at a time.
    """
    errors = QueryErrors()
    thread_id = errors.uuid("thread", thread)
    errors.raise_if_any()
    versions = message_use.stream_versions(
        db,
        caller,
        conversation_id=thread_id,
        include_superseded=boolean(include_history) is True,
        flagged=boolean(is_flagged),
        roles=WALDUR_ROLES,
    )
    return StreamingResponse(
        _json_array(versions, detections=caller.principal.sees_whole_org, rated=boolean(feedback_score)),
        media_type="application/json",
    )


async def _json_array(
    versions: AsyncIterator[MessageVersion], *, detections: bool, rated: bool | None
) -> AsyncIterator[bytes]:
    yield b"["
    separator = b""
    async for version in versions:
        if rated is not None and version.message.feedback_score is not rated:
            continue
        yield separator + render.message_json(version, detections=detections)
        separator = b","
    yield b"]"


@router.post(
    "/chat-messages/{uuid}/feedback/",
    operation_id="chat_messages_feedback",
    response_model=None,
    responses={200: {"model": MessageOut}, 400: {"model": BadRequest}, 404: {"model": ErrorOut}},
)
async def give_feedback(uuid: str, body: FeedbackIn, caller: WaldurCaller, db: DB) -> dict[str, Any]:
    """Rate an answer in one of the caller's own threads (again to change it); a thumbs-up drops the
    category. Anyone else's message is not found, staff's too, as in Waldur."""
    version = await feedback_use.give(
        db, caller, path_uuid(uuid), score=body.score, comment=body.comment, category=body.category
    )
    return render.message(version, detections=caller.principal.sees_whole_org)
