"""Message use cases: every visible message version, across conversations or in one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection

from chatkeep.core import message_versions
from chatkeep.core.callers import Caller
from chatkeep.core.message_versions import MessageVersion
from chatkeep.storage.database import Database

# Messages fetched with their content at a time: what a listing holds in memory, whatever its length.
BATCH = 200


async def versions(
    db: Database,
    caller: Caller,
    *,
    conversation_id: uuid.UUID | None = None,
    include_superseded: bool = False,
    flagged: bool | None = None,
    roles: Collection[str] | None = None,
) -> list[MessageVersion]:
    """Messages the caller may see, ordered by sequence index, then creation, all at once (for views
    that show one conversation; a listing across conversations uses `stream_versions`)."""
    async with db.read() as session:
        return await message_versions.get_all(
            session,
            principal=caller.principal,
            conversation_id=conversation_id,
            include_superseded=include_superseded,
            flagged=flagged,
            roles=roles,
        )


async def stream_versions(
    db: Database,
    caller: Caller,
    *,
    conversation_id: uuid.UUID | None = None,
    include_superseded: bool = False,
    flagged: bool | None = None,
    roles: Collection[str] | None = None,
    batch: int = BATCH,
) -> AsyncIterator[MessageVersion]:
    """Messages the caller may see, ordered by sequence index, then creation, `batch` at a time.

    The order is settled first from the messages without their content; the content is then read in
    short transactions of `batch` messages, so memory stays bounded by the batch, not by the listing.
    """
    async with db.read() as session:
        order = await message_versions.places(
            session,
            principal=caller.principal,
            conversation_id=conversation_id,
            include_superseded=include_superseded,
            flagged=flagged,
            roles=roles,
        )
    for start in range(0, len(order), batch):
        async with db.read() as session:
            versions = await message_versions.with_content(session, order[start : start + batch])
        for version in versions:
            yield version
