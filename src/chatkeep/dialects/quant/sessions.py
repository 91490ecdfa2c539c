"""Quant AI Sessions: create, list, get, update, extend, delete."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import WithJsonSchema

from chatkeep.core.conversations import NewMessage
from chatkeep.core.errors import NotFound
from chatkeep.core.use_cases import conversations as conversation_use
from chatkeep.dialects.deps import DB, QuantCaller
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.quant.schemas import (
    CreateSessionRequest,
    ExtendSessionOut,
    ExtendSessionRequest,
    MessageOut,
    SessionMessageIn,
    SessionMessageOut,
    SessionOut,
    SessionWithMessagesOut,
    UpdateMessageIn,
    UpdateSessionRequest,
)
from chatkeep.storage.models import Conversation, Message

router = APIRouter(route_class=OffLoopJSONRoute, tags=["AI Sessions"])


# Parsed here, not by FastAPI: a session id that is not a UUID names no session, so it is a 404 like any
# unknown one (a 400 would tell a prober the id's form). The schema still says what an id looks like.
SessionId = Annotated[
    str,
    Path(max_length=64),
    WithJsonSchema({"type": "string", "format": "uuid", "description": "A session id"}),
]


def session_uuid(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound("conversation not found", field="conversation") from None


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such session: absent, expired, another user's or organisation's"}
}


def render_session(c: Conversation) -> dict[str, object]:
    return {
        "id": str(c.id),
        "sessionId": str(c.id),
        "userId": c.user_id,
        "sessionGroup": c.group,
        "title": c.title,
        "model": c.model,
        "status": c.status,
        "metadata": c.meta or {},
        "expiresAt": c.expires_at,
        "createdAt": c.created_at,
        "updatedAt": c.updated_at,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "totalMessages": c.message_count,
        "totalTokens": c.total_tokens,
    }


def render_message(m: Message) -> SessionMessageOut:
    return SessionMessageOut(
        id=str(m.id),
        role=m.role,
        content=m.content,
        parentId=str(m.parent_id) if m.parent_id else None,
        sequenceIndex=m.sequence_index,
        status=m.status,
        model=m.model,
        createdAt=m.created_at,
        timestamp=m.created_at,
    )


@router.post("/sessions", status_code=201, response_model=SessionOut, operation_id="createAISession")
async def create_session(body: CreateSessionRequest, caller: QuantCaller, db: DB) -> dict[str, object]:
    """Create a chat session for a user of the organisation; it expires after `expirationMinutes`."""
    conversation = await conversation_use.start(
        db,
        caller,
        user_id=body.userId,
        group=body.sessionGroup,
        metadata=body.metadata,
        expires_in=timedelta(minutes=body.expirationMinutes),
        initial_messages=new_messages(body.initialMessages),
    )
    return render_session(conversation)


@router.get("/sessions", response_model=list[SessionOut], operation_id="listAISessions")
async def list_sessions(
    caller: QuantCaller,
    db: DB,
    userId: Annotated[str | None, Query(max_length=255)] = None,
    sessionGroup: Annotated[str | None, Query(max_length=255)] = None,
    model: Annotated[str | None, Query(max_length=255)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[dict[str, object]]:
    """Unexpired sessions, newest first; members see only their own."""
    rows = await conversation_use.get_all(
        db, caller, user_id=userId, group=sessionGroup, model=model, limit=limit, offset=offset
    )
    return [render_session(c) for c in rows]


@router.get(
    "/sessions/{sessionId}",
    response_model=SessionWithMessagesOut,
    operation_id="getAISession",
    responses=NOT_FOUND,
)
async def get_session(sessionId: SessionId, caller: QuantCaller, db: DB) -> dict[str, object]:
    """A session with its visible message history."""
    found = await conversation_use.get_with_history(db, caller, session_uuid(sessionId))
    return {**render_session(found.conversation), "messages": [render_message(m) for m in found.history]}


@router.put(
    "/sessions/{sessionId}",
    response_model=SessionOut,
    operation_id="updateAISession",
    responses={**NOT_FOUND, 409: {"description": "tokensUsed would take the session's total past 2^53-1"}},
)
async def update_session(
    sessionId: SessionId, body: UpdateSessionRequest, caller: QuantCaller, db: DB
) -> dict[str, object]:
    """Append messages, add tokens, change status or merge metadata."""
    conversation = await conversation_use.update(
        db,
        caller,
        session_uuid(sessionId),
        new_messages=new_messages(body.newMessages),
        status=body.status,
        metadata=body.metadata,
        add_tokens=body.tokensUsed or 0,
    )
    return render_session(conversation)


@router.put(
    "/sessions/{sessionId}/extend",
    response_model=ExtendSessionOut,
    operation_id="extendAISession",
    responses=NOT_FOUND,
)
async def extend_session(
    sessionId: SessionId, caller: QuantCaller, db: DB, body: ExtendSessionRequest | None = None
) -> dict[str, object]:
    """Push the session's expiry back (at most 24 hours from now)."""
    minutes = (body or ExtendSessionRequest()).additionalMinutes
    extended = await conversation_use.extend(db, caller, session_uuid(sessionId), minutes=minutes)
    applied = round(extended.applied.total_seconds() / 60)
    message = f"Session extended by {applied} minutes"
    if applied < minutes:
        message += f" ({minutes} requested; a session expires at most 24 hours from now)"
    return {**render_session(extended.conversation), "message": message}


@router.delete(
    "/sessions/{sessionId}", response_model=MessageOut, operation_id="deleteAISession", responses=NOT_FOUND
)
async def delete_session(sessionId: SessionId, caller: QuantCaller, db: DB) -> dict[str, str]:
    """Delete a session and its messages."""
    await conversation_use.delete(db, caller, session_uuid(sessionId))
    return {"message": "Session deleted successfully"}


def new_messages(messages: Sequence[SessionMessageIn | UpdateMessageIn] | None) -> list[NewMessage]:
    return [NewMessage(role=m.role, content=m.content) for m in messages or []]
