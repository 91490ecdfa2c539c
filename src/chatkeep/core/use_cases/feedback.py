"""Feedback use case: a conversation's owner rates one of its answers."""

from __future__ import annotations

import uuid

from chatkeep.core import message_feedback, message_versions
from chatkeep.core.callers import Caller
from chatkeep.core.message_versions import MessageVersion
from chatkeep.storage.database import Database


async def give(
    db: Database,
    caller: Caller,
    message_id: uuid.UUID,
    *,
    score: bool,
    comment: str | None = None,
    category: str | None = None,
) -> MessageVersion:
    """Rate an answer in one of the caller's own conversations; returns the rated message as it now is."""
    async with db.write() as session:
        message = await message_feedback.give(
            session,
            principal=caller.principal,
            message_id=message_id,
            score=score,
            comment=comment,
            category=category,
        )
        conversation_id = message.conversation_id
    async with db.read() as session:
        versions = await message_versions.get_all(
            session, principal=caller.principal, conversation_id=conversation_id, include_superseded=True
        )
    return next(v for v in versions if v.message.id == message_id)
