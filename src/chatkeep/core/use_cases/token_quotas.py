"""Per-user token quota use cases: read a user's limits and usage, and set them (staff only)."""

from __future__ import annotations

import uuid

from chatkeep.core import chat_sessions, token_quotas
from chatkeep.core.callers import Caller
from chatkeep.core.errors import Forbidden, NotFound
from chatkeep.core.token_quotas import PeriodUsage
from chatkeep.storage.database import Database


async def usage(db: Database, caller: Caller, user_uuid: uuid.UUID | None = None) -> list[PeriodUsage]:
    """A user's limits and usage per period: the caller's own, or (staff only) anyone's."""
    principal = caller.principal
    async with db.read() as session:
        user_id = principal.user_id
        if user_uuid is not None and user_uuid != chat_sessions.user_uuid(principal.org_id, user_id):
            if not principal.sees_whole_org:
                raise Forbidden("You can only view your own usage.")
            named = await chat_sessions.user_named(session, principal=principal, user_uuid_value=user_uuid)
            if named is None:
                raise NotFound("User not found.")
            user_id = named
        return await token_quotas.usage(session, principal=principal, user_id=user_id, config=caller.config)


async def set_limits(
    db: Database, caller: Caller, user_uuid: uuid.UUID, *, limits: dict[str, int | None]
) -> None:
    """Set some of a user's limits; only staff may (for anyone in their organisation, themselves too)."""
    principal = caller.principal
    if not principal.sees_whole_org:
        raise Forbidden("only staff may set token quotas")
    async with db.write() as session:
        user_id = await chat_sessions.user_named(session, principal=principal, user_uuid_value=user_uuid)
        if user_id is None:
            raise NotFound("User not found.")
        await token_quotas.set_limits(session, principal=principal, user_id=user_id, limits=limits)
