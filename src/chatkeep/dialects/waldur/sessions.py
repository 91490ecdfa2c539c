"""Waldur chat sessions: the caller's own (get-or-create), the visible list, and one by UUID."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from chatkeep.core.use_cases import chat_sessions as chat_session_use
from chatkeep.dialects.deps import DB, WaldurCaller
from chatkeep.dialects.waldur import render
from chatkeep.dialects.waldur.pagination import page_request, paginated
from chatkeep.dialects.waldur.params import Fields, fields, path_uuid
from chatkeep.dialects.waldur.schemas import ChatSessionOut, ErrorOut

router = APIRouter(tags=["chat-sessions"], responses={401: {"model": ErrorOut}})


@router.get(
    "/chat-sessions/",
    operation_id="chat_sessions_list",
    response_model=None,
    responses={200: {"model": list[ChatSessionOut]}, 404: {"model": ErrorOut}},
)
async def list_sessions(
    request: Request,
    caller: WaldurCaller,
    db: DB,
    field: Fields = None,
    page: Annotated[str | None, Query()] = None,
    page_size: Annotated[str | None, Query()] = None,
) -> JSONResponse:
    """Visible chat sessions, newest first: a member's own, or every one of the organisation's for staff."""
    keep = fields(field or [], render.SESSION_FIELDS)
    paging = page_request(page, page_size)
    rows, total = await chat_session_use.get_all(db, caller, limit=paging.size, offset=paging.offset)
    items = [render.selected(render.chat_session(row), keep) for row in rows]
    return paginated(request, items, total=total, page=paging)


@router.get(
    "/chat-sessions/current/",
    operation_id="chat_sessions_current_retrieve",
    response_model=None,
    responses={200: {"model": ChatSessionOut}},
)
async def current_session(caller: WaldurCaller, db: DB) -> dict[str, Any]:
    """The caller's own chat session, created on first use. Ignores `field`, as Waldur does."""
    return render.chat_session(await chat_session_use.current(db, caller))


@router.get(
    "/chat-sessions/{uuid}/",
    operation_id="chat_sessions_retrieve",
    response_model=None,
    responses={200: {"model": ChatSessionOut}, 404: {"model": ErrorOut}},
)
async def get_session(uuid: str, caller: WaldurCaller, db: DB, field: Fields = None) -> dict[str, Any]:
    """One visible chat session; 404 for malformed, unknown and invisible UUIDs alike."""
    row = await chat_session_use.get(db, caller, path_uuid(uuid))
    return render.selected(render.chat_session(row), fields(field or [], render.SESSION_FIELDS))
