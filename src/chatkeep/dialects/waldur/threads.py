"""Waldur chat threads (chatkeep conversations): filtered list, one by UUID, archive and unarchive."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import WithJsonSchema

from chatkeep.core import conversation_search
from chatkeep.core.conversation_search import ConversationQuery, DateRange
from chatkeep.core.use_cases import conversations as conversation_use
from chatkeep.core.use_cases import turns as turn_use
from chatkeep.dialects.deps import DB, Engine, WaldurCaller
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.waldur import render
from chatkeep.dialects.waldur.pagination import page_request, paginated
from chatkeep.dialects.waldur.params import (
    DateText,
    Fields,
    QueryErrors,
    UuidText,
    boolean,
    fields,
    path_uuid,
)
from chatkeep.dialects.waldur.schemas import BadRequest, ErrorOut, ThreadOut, ThreadStatsOut

router = APIRouter(route_class=OffLoopJSONRoute, tags=["chat-threads"], responses={401: {"model": ErrorOut}})
ORDER_KEYS = ("created", "modified", "total_tokens")
ORDERINGS = tuple(p + key for key in ORDER_KEYS for p in ("", "-"))
ORDERING_PATTERN = "^-?(created|modified|total_tokens)(,-?(created|modified|total_tokens))*$"
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
    has_feedback: Text = None,
    total_tokens_min: Annotated[str | None, Query(), WithJsonSchema({"type": "number"})] = None,
    total_tokens_max: Annotated[str | None, Query(), WithJsonSchema({"type": "number"})] = None,
    text: Annotated[str | None, Query(alias="query")] = None,
    user: UuidText = None,
    scope: Annotated[
        str | None,
        Query(description="`own`: only the caller's threads, even for staff."),
        WithJsonSchema({"type": "string", "enum": list(SCOPES)}),
    ] = None,
    o: Annotated[
        list[str] | None,
        Query(description="created, modified or total_tokens, `-` for descending; comma-separated."),
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
        total_tokens_min=errors.number("total_tokens_min", total_tokens_min),
        total_tokens_max=errors.number("total_tokens_max", total_tokens_max),
        has_feedback=boolean(has_feedback),
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
        400: {"model": BadRequest},
        404: {"model": ErrorOut, "description": "A page past the last one"},
    },
)
async def list_threads(
    request: Request,
    caller: WaldurCaller,
    db: DB,
    query: Annotated[ConversationQuery, Depends(thread_filters)],
    field: Fields = None,
    page: Text = None,
    page_size: Text = None,
) -> JSONResponse:
    """Visible threads, newest first unless `o` says otherwise: a member's own, all of the org's for staff."""
    keep = fields(field or [], render.THREAD_FIELDS)
    paging = page_request(page, page_size)
    found = await conversation_use.search(db, caller, query, limit=paging.size, offset=paging.offset)
    items = [render.selected(render.thread(row, found.token_totals.get(row.id)), keep) for row in found.rows]
    return paginated(request, items, total=found.total, page=paging)


@router.get(
    "/chat-threads/stats/",
    operation_id="chat_threads_stats_retrieve",
    response_model=None,
    responses={200: {"model": ThreadStatsOut}, 400: {"model": BadRequest}},
)
async def thread_stats(
    caller: WaldurCaller, db: DB, query: Annotated[ConversationQuery, Depends(thread_filters)]
) -> dict[str, Any]:
    """Totals over the visible threads the filters match (the list's filters; ordering is ignored)."""
    return render.thread_stats(await conversation_use.stats(db, caller, query))


@router.get(
    "/chat-threads/{uuid}/",
    operation_id="chat_threads_retrieve",
    response_model=None,
    responses={200: {"model": ThreadOut}, 404: {"model": ErrorOut}},
)
async def get_thread(uuid: str, caller: WaldurCaller, db: DB, field: Fields = None) -> dict[str, Any]:
    """One visible thread; 404 for malformed, unknown, expired and invisible UUIDs alike."""
    found = await conversation_use.get_one(db, caller, path_uuid(uuid))
    row = found.rows[0]
    return render.selected(
        render.thread(row, found.token_totals.get(row.id)), fields(field or [], render.THREAD_FIELDS)
    )


@router.post(
    "/chat-threads/{uuid}/archive/",
    operation_id="chat_threads_archive",
    status_code=204,
    response_class=Response,
    responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)
async def archive_thread(uuid: str, caller: WaldurCaller, db: DB) -> Response:
    """Archive one of the caller's own threads (a body, if any, is ignored). Repeating it is harmless."""
    await conversation_use.set_archived(db, caller, path_uuid(uuid), archived=True)
    return Response(status_code=204)


@router.post(
    "/chat-threads/{uuid}/unarchive/",
    operation_id="chat_threads_unarchive",
    status_code=204,
    response_class=Response,
    responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)
async def unarchive_thread(uuid: str, caller: WaldurCaller, db: DB) -> Response:
    """Restore one of the caller's own archived threads. Repeating it is harmless."""
    await conversation_use.set_archived(db, caller, path_uuid(uuid), archived=False)
    return Response(status_code=204)


@router.post(
    "/chat-threads/{uuid}/cancel/",
    operation_id="chat_threads_cancel",
    status_code=200,
    response_class=Response,
    responses={200: {"description": "Requested; the body is empty"}, 404: {"model": ErrorOut}},
)
async def cancel_thread(uuid: str, caller: WaldurCaller, engine: Engine) -> Response:
    """Stop the thread's running answer, on whichever replica streams it (a body, if any, is ignored).

    Only the thread's owner may, as in Waldur. With nothing running it does nothing, so repeating it or
    sending it late is harmless; the stopped answer keeps what was generated and is marked cancelled.
    """
    await turn_use.stop(engine, caller, path_uuid(uuid), own_only=True)
    return Response(status_code=200)
