"""Message use cases: every visible message version, across conversations or in one."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from chatkeep.core import message_versions
from chatkeep.core.callers import Caller
from chatkeep.core.message_versions import MessageVersion
from chatkeep.storage.database import Database


async def versions(
    db: Database,
    caller: Caller,
    *,
    conversation_id: uuid.UUID | None = None,
    include_superseded: bool = False,
    flagged: bool | None = None,
    roles: Collection[str] | None = None,
) -> list[MessageVersion]:
    """Messages the caller may see, ordered by sequence index, then creation."""
    async with db.read() as session:
        return await message_versions.get_all(
            session,
            principal=caller.principal,
            conversation_id=conversation_id,
            include_superseded=include_superseded,
            flagged=flagged,
            roles=roles,
        )
