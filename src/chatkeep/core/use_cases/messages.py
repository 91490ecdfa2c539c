"""Message use cases: every visible message version, across conversations or in one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection

from chatkeep.core import message_versions
from chatkeep.core.callers import Caller
from chatkeep.core.message_versions import MessageVersion
from chatkeep.storage.database import Database

# What a listing holds in memory at a time, whatever its length: at most this many messages, and no more
# content than BATCH_CHARS (but always at least one message).
BATCH = 200
BATCH_CHARS = 2_000_000


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
    batch_chars: int = BATCH_CHARS,
) -> AsyncIterator[MessageVersion]:
    """Messages the caller may see, ordered by sequence index, then creation, `batch` at a time.

    The order is settled first from the messages without their content; the content is then read in
    short transactions of at most `batch` messages and `batch_chars` of content, so memory stays bounded
    by the batch, not by the listing.
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
    start = 0
    while start < len(order):
        end, chars = start + 1, order[start].size
        while end < len(order) and end - start < batch and chars + order[end].size <= batch_chars:
            chars += order[end].size
            end += 1
        async with db.read() as session:
            versions = await message_versions.with_content(session, order[start:end])
        for version in versions:
            yield version
        start = end
