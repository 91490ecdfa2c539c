"""Chat pages: the conversation list with its filters, one conversation, archive, and version choice."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chatkeep.core import conversation_search
from chatkeep.core.conversation_search import ConversationQuery
from chatkeep.core.errors import ChatkeepError, NotFound
from chatkeep.core.use_cases import conversations, messages, versions
from chatkeep.dialects.console.deps import Acting, SignedIn, Visitor
from chatkeep.dialects.console.security import PREFIX
from chatkeep.dialects.console.templating import page
from chatkeep.dialects.console.thread_view import visible_thread
from chatkeep.dialects.console.uploads import LIMITS as UPLOAD_LIMITS
from chatkeep.dialects.deps import DB, get_db, get_registry
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.providers.base import ModelInfo

router = APIRouter(route_class=OffLoopJSONRoute)
PAGE_SIZE = 50
MAX_SEARCH = 200  # characters of search text; longer input is cut, not refused
YES_NO = {"yes": True, "no": False}


@dataclass(frozen=True, slots=True)
class ListFilters:
    """The list's filters as the form sends them (kept as text so the form can show them again)."""

    q: str = ""
    archived: str = "no"
    flagged: str = ""
    severity: str = ""
    mine: str = ""

    def as_query(self) -> str:
        """The filters as a query string, so a link to a conversation keeps the list as it is."""
        values = {
            "q": self.q,
            "archived": self.archived,
            "flagged": self.flagged,
            "severity": self.severity,
            "mine": self.mine,
        }
        return urlencode({k: v for k, v in values.items() if v})

    def query(self) -> ConversationQuery:
        return ConversationQuery(
            text=self.q.strip()[:MAX_SEARCH] or None,
            archived=YES_NO.get(self.archived),
            flagged=YES_NO.get(self.flagged),
            max_severity=self.severity if self.severity in conversation_search.SEVERITIES else None,
            own_only=self.mine == "yes",
            untitled_name="New chat",
            order_by=("-modified",),
        )


async def usable_models(request: Request, visitor: Visitor) -> tuple[list[ModelInfo], str]:
    """The models the organisation's config enables (in the models file's order), and its default."""
    registry = await get_registry(request)
    config = visitor.caller.config
    models = [m for m in registry.models() if config.allows(m.id) and m.supports("streaming")]
    return models, config.default_model or registry.default_model_id


async def _chat_page(
    request: Request,
    visitor: Visitor,
    filters: ListFilters,
    conversation_id: uuid.UUID | None,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    db = await get_db(request)
    found = await conversations.search(db, visitor.caller, filters.query(), limit=PAGE_SIZE, offset=0)
    conversation = None
    thread: list[Any] = []
    if conversation_id is not None:
        conversation = (await conversations.get_one(db, visitor.caller, conversation_id)).rows[0]
        every_version = await messages.versions(
            db, visitor.caller, conversation_id=conversation_id, include_superseded=True
        )
        thread = visible_thread(every_version, conversation.active_leaf_id)
    models, default_model = await usable_models(request, visitor)
    chosen = (conversation.model if conversation else None) or default_model
    context = {
        "section": "chat",
        "visitor": visitor,
        "filters": filters,
        "severities": conversation_search.SEVERITIES,
        "listed": found.rows,
        "total": found.total,
        "conversation": conversation,
        "thread": thread,
        "models": models,
        "chosen_model": chosen,
        "upload_limits": UPLOAD_LIMITS,
        "error": error,
        "is_owner": conversation is None or conversation.user_id == visitor.principal.user_id,
    }
    return page(request, "chat.html", context, status_code=status_code)


@router.get("/", response_class=HTMLResponse)
async def new_chat(
    request: Request,
    visitor: SignedIn,
    q: str = "",
    archived: str = "no",
    flagged: str = "",
    severity: str = "",
    mine: str = "",
) -> HTMLResponse:
    """The conversation list and an empty chat with the model picker."""
    return await _chat_page(
        request,
        visitor,
        ListFilters(q=q, archived=archived, flagged=flagged, severity=severity, mine=mine),
        None,
    )


@router.get("/chats/{conversation_id}", response_class=HTMLResponse)
async def show_chat(
    request: Request,
    visitor: SignedIn,
    conversation_id: uuid.UUID,
    q: str = "",
    archived: str = "no",
    flagged: str = "",
    severity: str = "",
    mine: str = "",
) -> HTMLResponse:
    """One conversation: its visible messages with their versions, safety flags and the composer."""
    filters = ListFilters(q=q, archived=archived, flagged=flagged, severity=severity, mine=mine)
    try:
        return await _chat_page(request, visitor, filters, conversation_id)
    except NotFound:
        return page(
            request,
            "error.html",
            {
                "visitor": visitor,
                "title": "Conversation not found",
                "message": "It does not exist, has expired, or is not yours to see.",
            },
            status_code=404,
        )


async def _change_then_show(
    request: Request, visitor: Visitor, conversation_id: uuid.UUID, change: Awaitable[Any]
) -> Response:
    """Await one state change, then show the conversation again (with the error if it was refused)."""
    try:
        await change
    except NotFound:
        return RedirectResponse(f"{PREFIX}/", status_code=303)
    except ChatkeepError as exc:
        return await _chat_page(
            request, visitor, ListFilters(archived=""), conversation_id, error=exc.message, status_code=400
        )
    return RedirectResponse(f"{PREFIX}/chats/{conversation_id}", status_code=303)


@router.post("/chats/{conversation_id}/archive", response_model=None)
async def archive(
    request: Request, visitor: Acting, db: DB, conversation_id: uuid.UUID, archived: Annotated[str, Form()]
) -> Response:
    """Archive (archived=yes) or restore (archived=no) a conversation; only its owner may."""
    change = conversations.set_archived(db, visitor.caller, conversation_id, archived=archived == "yes")
    return await _change_then_show(request, visitor, conversation_id, change)


@router.post("/chats/{conversation_id}/version", response_model=None)
async def show_version(
    request: Request,
    visitor: Acting,
    db: DB,
    conversation_id: uuid.UUID,
    message_id: Annotated[uuid.UUID, Form()],
) -> Response:
    """Show another version (edit or regeneration) of a message, and what followed it."""
    change = versions.show(db, visitor.caller, conversation_id, message_id)
    return await _change_then_show(request, visitor, conversation_id, change)
