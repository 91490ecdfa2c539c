"""Use cases on single stored messages: find one, add some, remove one, and read the input of an answer.

The OpenAI dialect's conversation items and stored responses are these messages; they exist in the core
so that finding, screening and authorising work as for every other caller.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from chatkeep.core import conversations, message_removal, screening
from chatkeep.core.callers import Caller
from chatkeep.core.conversations import NewMessage
from chatkeep.core.errors import NotFound
from chatkeep.storage.database import Database
from chatkeep.storage.models import Conversation, Message

# How far back the input of an answer is looked for: an answer follows at most this many new messages.
INPUT_WINDOW = 256


@dataclass(frozen=True, slots=True)
class Located:
    conversation: Conversation
    message: Message


async def find(db: Database, caller: Caller, message_id: uuid.UUID) -> Located:
    """A message the caller may see (its conversation visible to them); NotFound otherwise."""
    async with db.read() as session:
        message = (
            await session.execute(
                select(Message).where(Message.id == message_id, Message.org_id == caller.principal.org_id)
            )
        ).scalar_one_or_none()
        if message is None:
            raise NotFound("message not found", field="message")
        conversation = await conversations.get(
            session, principal=caller.principal, conversation_id=message.conversation_id
        )
    return Located(conversation, message)


async def find_in(db: Database, caller: Caller, conversation_id: uuid.UUID, message_id: uuid.UUID) -> Located:
    """A message of the given conversation, which the caller may see."""
    located = await find(db, caller, message_id)
    if located.conversation.id != conversation_id:
        raise NotFound("message not found", field="message")
    return located


async def append(
    db: Database, caller: Caller, conversation_id: uuid.UUID, messages: Sequence[NewMessage]
) -> list[Message]:
    """Append screened messages after the active leaf; returns the stored rows."""
    screened = await screening.screen_stored(messages, screening.policy_of(caller.config))
    async with db.write(serialize=conversation_id) as session:
        conversation = await conversations.get(
            session, principal=caller.principal, conversation_id=conversation_id, for_update=True
        )
        return await conversations.append_messages(session, conversation=conversation, messages=screened)


async def remove(db: Database, caller: Caller, conversation_id: uuid.UUID, message_id: uuid.UUID) -> None:
    """Remove one message; what followed it stays, one step closer to the root."""
    async with db.write(serialize=conversation_id) as session:
        conversation = await conversations.get(
            session, principal=caller.principal, conversation_id=conversation_id, for_update=True
        )
        await message_removal.remove(session, conversation=conversation, message_id=message_id)


async def replace_metadata(
    db: Database, caller: Caller, conversation_id: uuid.UUID, metadata: dict[str, Any]
) -> Conversation:
    """Set a conversation's metadata to exactly `metadata` (keys not in it are removed)."""
    async with db.write(serialize=conversation_id) as session:
        conversation = await conversations.get(
            session, principal=caller.principal, conversation_id=conversation_id, for_update=True
        )
        removed: dict[str, Any] = {key: None for key in conversation.meta or {} if key not in metadata}
        return conversations.update(conversation, metadata={**removed, **metadata})


@dataclass(frozen=True, slots=True)
class AnswerInput:
    """What an answer answered: the messages after the answer before it (`previous`, if any)."""

    previous: Message | None
    messages: list[Message]


async def input_of(db: Database, caller: Caller, answer_id: uuid.UUID) -> AnswerInput:
    """The messages an answer answered, and the answer they followed."""
    located = await find(db, caller, answer_id)
    parent = located.message.parent_id
    if parent is None:
        return AnswerInput(None, [])
    async with db.read() as session:
        path = await conversations.path_to(
            session, conversation=located.conversation, leaf_id=parent, newest=INPUT_WINDOW
        )
    start = max((i + 1 for i, m in enumerate(path) if m.role == "assistant"), default=0)
    return AnswerInput(path[start - 1] if start else None, path[start:])
