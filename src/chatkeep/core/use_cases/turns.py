"""Turn use cases beyond opening one (that is the engine's): stopping a conversation's running turn."""

from __future__ import annotations

import uuid

from chatkeep.core import conversations
from chatkeep.core.callers import Caller
from chatkeep.core.errors import NotFound
from chatkeep.core.turns import TurnEngine


async def stop(
    engine: TurnEngine, caller: Caller, conversation_id: uuid.UUID, *, own_only: bool = False
) -> None:
    """Stop the conversation's running turn, on whichever replica runs it; NotFound if the caller cannot
    see the conversation (with `own_only`, unless it is their own). Stopping a conversation with nothing
    running is harmless."""
    async with engine.db.read() as session:
        conversation = await conversations.get(
            session, principal=caller.principal, conversation_id=conversation_id
        )
    if own_only and conversation.user_id != caller.principal.user_id:
        raise NotFound("conversation not found", field="conversation")
    await engine.running.stop(conversation_id)
