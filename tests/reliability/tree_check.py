"""Checks on a conversation's stored message tree, read straight from the database."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import func, select

from chatkeep.storage.database import Database
from chatkeep.storage.models import Conversation, Message, UsageRecord


async def assert_linear_and_complete(
    db: Database, conversation_id: uuid.UUID, *, expected_user_texts: list[str], turns: int
) -> int:
    """A conversation that only ever had messages appended (no edits, no regenerations) must be one chain:
    every stored message on the active path, sequence_index equal to its depth, no duplicates, every turn
    finished and accounted once. Returns the number of messages."""
    async with db.read() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        rows = list(
            (
                await session.execute(select(Message).where(Message.conversation_id == conversation_id))
            ).scalars()
        )
        usage_rows, usage_tokens = (
            await session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(UsageRecord.input_tokens + UsageRecord.output_tokens), 0),
                ).where(UsageRecord.conversation_id == conversation_id)
            )
        ).one()
    by_id = {m.id: m for m in rows}
    path: list[Message] = []
    cursor = conversation.active_leaf_id
    while cursor is not None:
        message = by_id.pop(cursor)  # KeyError: a parent that is not stored; a cycle pops twice
        path.append(message)
        cursor = message.parent_id
    path.reverse()
    assert not by_id, f"{len(by_id)} stored messages are not on the active path"
    assert [m.sequence_index for m in path] == list(range(1, len(path) + 1))
    assert conversation.message_count == len(path)
    user_texts = Counter(m.content for m in path if m.role == "user")
    assert user_texts == Counter(expected_user_texts), "a user message was lost or stored twice"
    assert [m.status for m in path if m.status != "complete"] == []
    assistants_after_turns = sum(1 for m in path if m.role == "assistant" and m.output_tokens is not None)
    assert assistants_after_turns == turns
    assert usage_rows == turns and conversation.total_tokens == usage_tokens
    return len(path)
