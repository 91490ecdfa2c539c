"""Waldur chat messages: every visible message, not paginated, optionally with superseded versions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from chatkeep.core.use_cases import messages as message_use
from chatkeep.dialects.deps import DB, WaldurCaller
from chatkeep.dialects.waldur import render
from chatkeep.dialects.waldur.params import QueryErrors, UuidText, boolean
from chatkeep.dialects.waldur.schemas import ErrorOut, MessageOut

router = APIRouter(tags=["chat-messages"], responses={401: {"model": ErrorOut}})
# Waldur's message role enum has only these two; system and tool rows stay out of this view.
WALDUR_ROLES = frozenset({"user", "assistant"})


@router.get(
    "/chat-messages/",
    operation_id="chat_messages_list",
    response_model=None,
    responses={200: {"model": list[MessageOut]}, 400: {"model": dict[str, list[str]]}},
)
async def list_messages(
    caller: WaldurCaller,
    db: DB,
    thread: Annotated[UuidText, Query(description="Thread UUID; an invisible thread gives [].")] = None,
    include_history: Annotated[str | None, Query(description="true: superseded versions too.")] = None,
    is_flagged: Annotated[str | None, Query()] = None,
    feedback_score: Annotated[str | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Messages ordered by sequence index, then creation; detection fields only for staff callers."""
    errors = QueryErrors()
    thread_id = errors.uuid("thread", thread)
    errors.raise_if_any()
    if boolean(feedback_score) is not None:
        return []  # no feedback is stored (every message renders feedback_score null), so none matches
    versions = await message_use.versions(
        db,
        caller,
        conversation_id=thread_id,
        include_superseded=boolean(include_history) is True,
        flagged=boolean(is_flagged),
        roles=WALDUR_ROLES,
    )
    return [render.message(v, detections=caller.principal.sees_whole_org) for v in versions]
