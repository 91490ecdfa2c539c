"""Waldur chat threads (chatkeep conversations): filtered list, one by UUID, archive and unarchive."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import WithJsonSchema
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core import conversation_search, conversations
from chatkeep.core.conversation_search import ConversationQuery, DateRange
from chatkeep.core.errors import NotFound
from chatkeep.core.principals import Principal
from chatkeep.dialects.waldur import render
from chatkeep.dialects.waldur.deps import DB, Caller
from chatkeep.dialects.waldur.pagination import page_request, paginated
from chatkeep.dialects.waldur.params import (
    NOT_FOUND,
    DateText,
    Fields,
    QueryErrors,
    UuidText,
    boolean,
    fields,
    path_uuid,
)
from chatkeep.dialects.waldur.schemas import ErrorOut, ThreadOut
from chatkeep.storage.database import Database
from chatkeep.storage.models import Conversation

router = APIRouter(tags=["chat-threads"], responses={401: {"model": ErrorOut}})
ORDERINGS = ("created", "-created", "modified", "-modified")
ORDERING_PATTERN = "^-?(created|modified)(,-?(created|modified))*$"
SCOPES = ("own",)
Text = Annotated[str | None, Query()]


async def thread_filters(
    created: DateText = None,
    modified: DateText = None,
    created_after: DateText = None,
    created_before: DateText = None,
    modified_after: DateText = None,
    modified_before: DateText = None,
    is_archived: Text = None,
    is_flagged: Text = None,
    max_severity: Annotated[
        str | None, Query(), WithJsonSchema({"type": "string", "enum": list(conversation_search.SEVERITIES)})
    ] = None,
    text: Annotated[str | None, Query(alias="query")] = None,
    user: UuidText = None,
    scope: Annotated[
        str | None,
        Query(description="`own`: only the caller's threads, even for staff."),
        WithJsonSchema({"type": "string", "enum": list(SCOPES)}),
    ] = None,
    o: Annotated[
        list[str] | None,
        Query(description="created, -created, modified or -modified; comma-separated for several."),
        WithJsonSchema({"type": "array", "items": {"type": "string", "pattern": ORDERING_PATTERN}}),
    ] = None,
) -> ConversationQuery:
    """The thread filters; dates are UTC calendar days, the `_after`/`_before` bounds inclusive."""
    errors = QueryErrors()
    query = ConversationQuery(
        owner_uuid=errors.uuid("user", user),
        own_only=errors.choice("scope", scope, SCOPES) == "own",
        archived=boolean(is_archived),
        flagged=boolean(is_flagged),
        max_severity=errors.choice("max_severity", max_severity, conversation_search.SEVERITIES),
        created=DateRange(
            on=errors.date("created", created),
            start=errors.date("created_after", created_after),
            end=errors.date("created_before", created_before),
        ),
        modified=DateRange(
            on=errors.date("modified", modified),
            start=errors.date("modified_after", modified_after),
            end=errors.date("modified_before", modified_before),
        ),
        text=text or None,
        untitled_name=render.UNTITLED,
        order_by=errors.ordering(o or [], ORDERINGS) or ("-created",),
    )
    errors.raise_if_any()
    return query


@router.get(
    "/chat-threads/",
    operation_id="chat_threads_list",
    response_model=None,
    responses={
        200: {"model": list[ThreadOut]},
        400: {"model": dict[str, list[str]]},
        404: {"model": ErrorOut, "description": "A page past the last one"},
    },
)
async def list_threads(
    request: Request,
    caller: Caller,
    db: DB,
    query: Annotated[ConversationQuery, Depends(thread_filters)],
    field: Fields = None,
    page: Text = None,
    page_size: Text = None,
) -> JSONResponse:
    """Visible threads, newest first unless `o` says otherwise: a member's own, all of the org's for staff."""
    keep = fields(field or [], render.THREAD_FIELDS)
    paging = page_request(page, page_size)
    async with db.read() as session:
        rows, total = await conversation_search.search(
            session, principal=caller, query=query, limit=paging.size, offset=paging.offset
        )
        totals = await conversation_search.token_totals(session, conversation_ids=[r.id for r in rows])
    items = [render.selected(render.thread(row, totals.get(row.id)), keep) for row in rows]
    return paginated(request, items, total=total, page=paging)


@router.get(
    "/chat-threads/{uuid}/",
    operation_id="chat_threads_retrieve",
    response_model=None,
    responses={200: {"model": ThreadOut}, 404: {"model": ErrorOut}},
)
async def get_thread(uuid: str, caller: Caller, db: DB, field: Fields = None) -> dict[str, Any]:
    """One visible thread; 404 for malformed, unknown, expired and invisible UUIDs alike."""
    async with db.read() as session:
        row = await _visible_thread(session, caller, uuid)
        totals = await conversation_search.token_totals(session, conversation_ids=[row.id])
    return render.selected(render.thread(row, totals.get(row.id)), fields(field or [], render.THREAD_FIELDS))


@router.post(
    "/chat-threads/{uuid}/archive/",
    operation_id="chat_threads_archive",
    status_code=204,
    response_class=Response,
    responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)
async def archive_thread(uuid: str, caller: Caller, db: DB) -> Response:
    """Archive one of the caller's own threads (a body, if any, is ignored). Repeating it is harmless."""
    await _set_archived(db, caller, uuid, archived=True)
    return Response(status_code=204)


@router.post(
    "/chat-threads/{uuid}/unarchive/",
    operation_id="chat_threads_unarchive",
    status_code=204,
    response_class=Response,
    responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)
async def unarchive_thread(uuid: str, caller: Caller, db: DB) -> Response:
    """Restore one of the caller's own archived threads. Repeating it is harmless."""
    await _set_archived(db, caller, uuid, archived=False)
    return Response(status_code=204)


async def _set_archived(db: Database, caller: Principal, raw_uuid: str, *, archived: bool) -> None:
    # Staff can see other users' threads (so they get 403, not 404), but only the owner may archive.
    async with db.write() as session:
        row = await _visible_thread(session, caller, raw_uuid, for_update=True)
        conversations.set_archived(row, principal=caller, archived=archived)


async def _visible_thread(
    session: AsyncSession, caller: Principal, raw_uuid: str, *, for_update: bool = False
) -> Conversation:
    try:
        return await conversations.get(
            session, principal=caller, conversation_id=path_uuid(raw_uuid), for_update=for_update
        )
    except NotFound:
        raise NotFound(NOT_FOUND) from None
