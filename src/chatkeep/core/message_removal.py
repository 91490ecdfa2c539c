"""Removing one message from a conversation's tree without losing what came after it.

The message's children move up to its parent and every descendant's depth (`sequence_index`) shrinks by
one, so the tree stays a tree and the visible path simply skips the removed message. Removing the active
leaf makes its parent the leaf.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from chatkeep.core.errors import NotFound
from chatkeep.storage.models import CONVERSATIONS, MESSAGES, Conversation
from chatkeep.storage.types import utcnow


async def remove(session: AsyncSession, *, conversation: Conversation, message_id: uuid.UUID) -> None:
    """Delete one message of `conversation` (held for update), re-linking its children to its parent."""
    rows = (
        await session.execute(
            select(MESSAGES.c.id, MESSAGES.c.parent_id).where(MESSAGES.c.conversation_id == conversation.id)
        )
    ).all()
    parents = {row.id: row.parent_id for row in rows}
    if message_id not in parents:
        raise NotFound("message not found", field="message")
    children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    descendants: list[uuid.UUID] = []
    stack = list(children.get(message_id, []))
    while stack:  # iterative: a long conversation is a deep tree
        node = stack.pop()
        descendants.append(node)
        stack.extend(children.get(node, []))
    parent_id = parents[message_id]
    on_path = _on_active_path(parents, conversation.active_leaf_id, message_id)
    await session.execute(
        sql_update(MESSAGES).where(MESSAGES.c.parent_id == message_id).values(parent_id=parent_id)
    )
    if descendants:
        await session.execute(
            sql_update(MESSAGES)
            .where(MESSAGES.c.id.in_(descendants))
            .values(sequence_index=MESSAGES.c.sequence_index - 1)
        )
    await session.execute(sql_delete(MESSAGES).where(MESSAGES.c.id == message_id))
    changes: dict[str, object] = {"updated_at": utcnow()}
    if on_path:
        changes["message_count"] = max(conversation.message_count - 1, 0)
        if conversation.active_leaf_id == message_id:
            changes["active_leaf_id"] = parent_id
    await session.execute(
        sql_update(CONVERSATIONS).where(CONVERSATIONS.c.id == conversation.id).values(changes)
    )
    for name, value in changes.items():
        set_committed_value(conversation, name, value)  # as loaded, so no flush writes it again


def _on_active_path(
    parents: dict[uuid.UUID, uuid.UUID | None], leaf: uuid.UUID | None, message_id: uuid.UUID
) -> bool:
    node = leaf
    seen = 0
    while node is not None and seen <= len(parents):
        if node == message_id:
            return True
        node = parents.get(node)
        seen += 1
    return False
