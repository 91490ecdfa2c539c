"""Version use cases: choose which version of a turn (an edit or a regeneration) a conversation shows."""

from __future__ import annotations

import uuid

from chatkeep.core import active_version
from chatkeep.core.callers import Caller
from chatkeep.storage.database import Database
from chatkeep.storage.models import Conversation


async def show(
    db: Database, caller: Caller, conversation_id: uuid.UUID, message_id: uuid.UUID
) -> Conversation:
    """Make the branch of `message_id` the visible history; only the conversation's owner may."""
    async with db.write(serialize=conversation_id) as session:
        return await active_version.show(
            session, principal=caller.principal, conversation_id=conversation_id, message_id=message_id
        )
