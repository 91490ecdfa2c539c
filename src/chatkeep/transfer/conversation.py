"""One conversation, whole: every message version, the active path and its usage rows (the per-conversation
export), and its rendering as Markdown for people to read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core import conversations
from chatkeep.core.principals import Principal
from chatkeep.storage.models import CONVERSATIONS, MESSAGES, USAGE_RECORDS, Conversation, Message
from chatkeep.transfer.records import to_json


@dataclass(frozen=True, slots=True)
class ConversationExport:
    conversation: Conversation
    messages: list[Message]  # every version, in tree order (depth, then creation)
    active_path: list[uuid.UUID]  # root to active leaf: what the conversation shows
    usage: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        """The export in the records' shape (database column names), plus the active path."""
        return {
            "conversation": to_json(
                CONVERSATIONS, _columns(self.conversation, CONVERSATIONS), "conversation"
            ),
            "messages": [to_json(MESSAGES, _columns(m, MESSAGES), "message") for m in self.messages],
            "active_path": [str(i) for i in self.active_path],
            "usage": self.usage,
        }

    def as_markdown(self) -> str:
        """The visible history as Markdown: a heading per message, the text as written."""
        c = self.conversation
        by_id = {m.id: m for m in self.messages}
        lines = [
            f"# {c.title or 'Conversation'}",
            "",
            f"- id: `{c.id}`",
            f"- user: `{c.user_id}`",
            f"- model: {c.model or '-'}",
            f"- created: {c.created_at.isoformat()}",
            f"- messages: {len(self.active_path)} shown, {len(self.messages)} stored (with earlier versions)",
            "",
        ]
        for message_id in self.active_path:
            m = by_id[message_id]
            flag = f" (flagged: {m.severity}, {m.action_taken})" if m.is_flagged else ""
            lines += [f"## {m.role}{flag}", "", m.content, ""]
        return "\n".join(lines)


async def export_conversation(
    session: AsyncSession, *, principal: Principal, conversation_id: uuid.UUID
) -> ConversationExport:
    """A conversation the caller may read, whole; NotFound as for reading it (other users, other orgs)."""
    conversation = await conversations.get(session, principal=principal, conversation_id=conversation_id)
    messages = list(
        (
            await session.execute(
                select(Message)
                .where(Message.conversation_id == conversation.id)
                .order_by(Message.sequence_index, Message.created_at, Message.id)
            )
        ).scalars()
    )
    path = await conversations.visible_history(session, conversation=conversation)
    usage = (
        await session.execute(
            select(USAGE_RECORDS)
            .where(
                USAGE_RECORDS.c.org_id == principal.org_id, USAGE_RECORDS.c.conversation_id == conversation.id
            )
            .order_by(USAGE_RECORDS.c.created_at, USAGE_RECORDS.c.id)
        )
    ).mappings()
    return ConversationExport(
        conversation=conversation,
        messages=messages,
        active_path=[m.id for m in path],
        usage=[to_json(USAGE_RECORDS, row, "usage") for row in usage],
    )


def _columns(row: Any, table: Any) -> dict[str, Any]:
    """An ORM row's values under its table's column names (attribute names can differ: `meta`)."""
    mapper = row.__mapper__
    return {column.name: getattr(row, mapper.get_property_by_column(column).key) for column in table.columns}
