"""Choosing which version of a turn a conversation shows (the `< 2/3 >` of a chat screen).

Edits and regenerations are siblings in the message tree (see conversations). Showing another version
moves the conversation's active leaf into that sibling's branch, to the newest message under it, so the
conversation continues from there. Nothing is deleted: every version stays reachable.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core import conversations
from chatkeep.core.errors import Forbidden, NotFound
from chatkeep.core.principals import Principal
from chatkeep.storage.models import Conversation, Message
from chatkeep.storage.types import utcnow


async def show(
    session: AsyncSession, *, principal: Principal, conversation_id: uuid.UUID, message_id: uuid.UUID
) -> Conversation:
    """Make `message_id`'s branch the visible history. Only the conversation's owner may."""
    conversation = await conversations.get(
        session, principal=principal, conversation_id=conversation_id, for_update=True
    )
    if conversation.user_id != principal.user_id:
        raise Forbidden("only the owner of a conversation may choose which version it shows")
    rows = (
        await session.execute(
            select(Message.id, Message.parent_id, Message.sequence_index, Message.created_at).where(
                Message.conversation_id == conversation.id
            )
        )
    ).all()
    by_id = {row.id: row for row in rows}
    if message_id not in by_id:
        raise NotFound("message not found", field="message")
    children: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for row in rows:
        if row.parent_id is not None:
            children[row.parent_id].append(row.id)
    leaf = message_id
    for _ in range(len(rows)):  # bounded, so a corrupt cycle cannot loop forever
        below = children.get(leaf)
        if not below:
            break
        leaf = max(below, key=lambda child: (by_id[child].created_at, str(child)))
    conversation.active_leaf_id = leaf
    conversation.message_count = by_id[leaf].sequence_index
    conversation.updated_at = utcnow()
    return conversation
