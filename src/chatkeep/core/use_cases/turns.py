"""Turn use cases beyond opening one (that is the engine's): stopping a conversation's running turn."""

from __future__ import annotations

import uuid

from chatkeep.core import conversations
from chatkeep.core.callers import Caller
from chatkeep.core.turns import TurnEngine


async def stop(engine: TurnEngine, caller: Caller, conversation_id: uuid.UUID) -> None:
    """Stop the conversation's running turn, on whichever replica runs it; NotFound if the caller cannot
    see the conversation. Stopping a conversation with nothing running is harmless."""
    async with engine.db.read() as session:
        await conversations.get(session, principal=caller.principal, conversation_id=conversation_id)
    await engine.running.stop(conversation_id)
