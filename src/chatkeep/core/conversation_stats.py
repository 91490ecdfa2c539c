"""Totals over the conversations a filtered query matches: how many, by whom, how many messages and
tokens, how many flagged, and how people rated the answers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.conversation_search import ConversationQuery, conditions
from chatkeep.core.principals import Principal
from chatkeep.storage.models import Conversation, Message


@dataclass(frozen=True, slots=True)
class ConversationStats:
    conversations: int
    users: int
    messages: int
    input_tokens: int
    output_tokens: int
    flagged: int
    rated_up: int
    rated_down: int

    @property
    def satisfaction(self) -> float | None:
        """Share of thumbs-up among rated answers; None when nothing was rated."""
        rated = self.rated_up + self.rated_down
        return self.rated_up / rated if rated else None


async def totals(
    session: AsyncSession, *, principal: Principal, query: ConversationQuery
) -> ConversationStats:
    """Aggregate the conversations the caller may see that match `query` (ordering is irrelevant)."""
    where = conditions(principal, query)
    conversations, users, flagged = (
        await session.execute(
            select(
                func.count(Conversation.id),
                func.count(func.distinct(Conversation.user_id)),
                func.count(Conversation.id).filter(Conversation.is_flagged.is_(True)),
            ).where(*where)
        )
    ).one()
    matching = select(Conversation.id).where(*where).scalar_subquery()
    messages, input_tokens, output_tokens, up, down = (
        await session.execute(
            select(
                func.count(Message.id).filter(Message.role.in_(("user", "assistant"))),
                func.coalesce(func.sum(Message.input_tokens), 0),
                func.coalesce(func.sum(Message.output_tokens), 0),
                func.coalesce(func.sum(case((Message.feedback_score.is_(True), 1), else_=0)), 0),
                func.coalesce(func.sum(case((Message.feedback_score.is_(False), 1), else_=0)), 0),
            ).where(Message.org_id == principal.org_id, Message.conversation_id.in_(matching))
        )
    ).one()
    return ConversationStats(
        conversations=int(conversations),
        users=int(users),
        messages=int(messages),
        input_tokens=int(input_tokens),
        output_tokens=int(output_tokens),
        flagged=int(flagged),
        rated_up=int(up),
        rated_down=int(down),
    )
