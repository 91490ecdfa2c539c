"""The Conversations API: a conversation (`conv_…`) is a chatkeep conversation, its items its messages.

What is written here is the same conversation a Quant session or a Waldur thread is: listed, screened
(items are screened as they are stored) and limited the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from chatkeep.core.callers import Caller
from chatkeep.core.errors import NotFound
from chatkeep.core.use_cases import conversation_items
from chatkeep.core.use_cases import conversations as use_cases
from chatkeep.dialects.deps import DB, OpenAICaller
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.openai import ids, items
from chatkeep.dialects.openai.content import new_budget
from chatkeep.dialects.openai.item_schemas import InputItem, as_dicts
from chatkeep.dialects.openai.wire import Metadata, WireModel, acting_user
from chatkeep.storage.database import Database
from chatkeep.storage.models import Conversation

router = APIRouter(route_class=OffLoopJSONRoute, tags=["OpenAI: Conversations"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such conversation (or item)"}}
Limit = Annotated[int, Query(ge=1, le=100)]
Order = Annotated[Literal["asc", "desc"], Query()]
After = Annotated[str | None, Query(max_length=100)]


class ConversationCreate(WireModel):
    items: list[InputItem] | None = Field(default=None, max_length=20)
    metadata: Metadata = None
    user: str | None = Field(default=None, max_length=255, description="chatkeep: the acting user")


class ConversationUpdate(WireModel):
    metadata: Metadata = Field(description="Replaces the conversation's metadata")


class ItemsCreate(WireModel):
    items: list[InputItem] = Field(min_length=1, max_length=20)


def timestamp(value: datetime) -> int:
    return int(value.timestamp())


def render(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": ids.encode(ids.CONVERSATION, conversation.id),
        "object": "conversation",
        "created_at": timestamp(conversation.created_at),
        "metadata": conversation.meta or {},
    }


def _id(conversation_id: str) -> Any:
    return ids.decode_path(ids.CONVERSATION, conversation_id, subject="conversation")


async def _all_items(db: Database, caller: Caller, conversation_id: str) -> list[dict[str, Any]]:
    found = await use_cases.get_with_history(db, caller, _id(conversation_id))
    return [item for message in found.history for item in items.render(message)]


@router.post("/conversations", operation_id="openaiCreateConversation")
async def create_conversation(body: ConversationCreate, caller: OpenAICaller, db: DB) -> dict[str, Any]:
    """A new conversation, optionally with first items and metadata."""
    messages = items.to_messages(as_dicts(body.items or []), "items", new_budget())
    conversation = await use_cases.start(
        db,
        caller,
        user_id=acting_user(caller, body.user),
        metadata=body.metadata,
        initial_messages=items.to_new_messages(messages),
    )
    return render(conversation)


@router.get(
    "/conversations/{conversation_id}", operation_id="openaiRetrieveConversation", responses=NOT_FOUND
)
async def retrieve_conversation(conversation_id: str, caller: OpenAICaller, db: DB) -> dict[str, Any]:
    found = await use_cases.get_one(db, caller, _id(conversation_id))
    return render(found.rows[0])


@router.post("/conversations/{conversation_id}", operation_id="openaiUpdateConversation", responses=NOT_FOUND)
async def update_conversation(
    conversation_id: str, body: ConversationUpdate, caller: OpenAICaller, db: DB
) -> dict[str, Any]:
    """Replace the conversation's metadata."""
    conversation = await conversation_items.replace_metadata(
        db, caller, _id(conversation_id), body.metadata or {}
    )
    return render(conversation)


@router.delete(
    "/conversations/{conversation_id}", operation_id="openaiDeleteConversation", responses=NOT_FOUND
)
async def delete_conversation(conversation_id: str, caller: OpenAICaller, db: DB) -> dict[str, Any]:
    """Delete the conversation and every message in it."""
    await use_cases.delete(db, caller, _id(conversation_id))
    return {"id": conversation_id, "object": "conversation.deleted", "deleted": True}


@router.get(
    "/conversations/{conversation_id}/items", operation_id="openaiListConversationItems", responses=NOT_FOUND
)
async def list_items(
    conversation_id: str,
    caller: OpenAICaller,
    db: DB,
    after: After = None,
    limit: Limit = 20,
    order: Order = "desc",
) -> dict[str, Any]:
    """The conversation's visible items, newest first unless `order=asc`."""
    return items.page(await _all_items(db, caller, conversation_id), after=after, limit=limit, order=order)


@router.post(
    "/conversations/{conversation_id}/items",
    operation_id="openaiCreateConversationItems",
    responses=NOT_FOUND,
)
async def create_items(
    conversation_id: str, body: ItemsCreate, caller: OpenAICaller, db: DB
) -> dict[str, Any]:
    """Append items (screened as they are stored) without calling a model."""
    messages = items.to_messages(as_dicts(body.items), "items", new_budget())
    stored = await conversation_items.append(
        db, caller, _id(conversation_id), items.to_new_messages(messages)
    )
    created = [item for message in stored for item in items.render(message)]
    return items.page(created, after=None, limit=len(created) or 1, order="asc")


@router.get(
    "/conversations/{conversation_id}/items/{item_id}",
    operation_id="openaiRetrieveConversationItem",
    responses=NOT_FOUND,
)
async def retrieve_item(conversation_id: str, item_id: str, caller: OpenAICaller, db: DB) -> dict[str, Any]:
    message_id = ids.decode_path(ids.MESSAGE, item_id, subject="item")
    located = await conversation_items.find_in(db, caller, _id(conversation_id), message_id)
    rendered = items.render(located.message)
    if not rendered:
        raise NotFound(f"No item found with id '{item_id}'.", field="item")
    return rendered[0]


@router.delete(
    "/conversations/{conversation_id}/items/{item_id}",
    operation_id="openaiDeleteConversationItem",
    responses=NOT_FOUND,
)
async def delete_item(conversation_id: str, item_id: str, caller: OpenAICaller, db: DB) -> dict[str, Any]:
    """Remove one item; answers with the conversation, as OpenAI does."""
    conversation = _id(conversation_id)
    message_id = ids.decode_path(ids.MESSAGE, item_id, subject="item")
    await conversation_items.find_in(db, caller, conversation, message_id)
    await conversation_items.remove(db, caller, conversation, message_id)
    found = await use_cases.get_one(db, caller, conversation)
    return render(found.rows[0])
