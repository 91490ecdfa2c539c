"""People's ratings of answers: thumbs up or down on an assistant message, with a comment and a category."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.errors import InvalidInput, NotFound
from chatkeep.core.principals import Principal
from chatkeep.storage.models import Conversation, Message
from chatkeep.storage.types import utcnow

# Why an answer was bad; only a thumbs-down carries one.
CATEGORIES = ("inaccurate", "incomplete", "misunderstood", "other", "slow_or_failed")


async def give(
    session: AsyncSession,
    *,
    principal: Principal,
    message_id: uuid.UUID,
    score: bool,
    comment: str | None,
    category: str | None,
) -> Message:
    """Record (or replace) the caller's rating of an answer in one of their own conversations.

    Only the conversation's owner rates it: staff who can read other people's conversations cannot speak
    for them, so for anyone else the message is not found. A thumbs-up drops the category.
    """
    if category is not None and category not in CATEGORIES:
        raise InvalidInput(f"category must be one of {list(CATEGORIES)}", field="category")
    query = (
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.id == message_id,
            Message.org_id == principal.org_id,
            Conversation.org_id == principal.org_id,
            Conversation.user_id == principal.user_id,
        )
        .with_for_update(of=Message)
    )
    message = (await session.execute(query)).scalar_one_or_none()
    if message is None:
        raise NotFound("message not found", field="message")
    if message.role != "assistant":
        raise InvalidInput("Feedback can only be given on assistant messages.", field="message")
    message.feedback_score = score
    message.feedback_comment = comment
    message.feedback_category = None if score else category
    message.feedback_submitted_at = utcnow()
    return message
