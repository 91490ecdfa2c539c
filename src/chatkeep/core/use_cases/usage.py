"""Usage use cases: one month's totals of what the caller may see."""

from __future__ import annotations

import uuid

from chatkeep.core import usage
from chatkeep.core.callers import Caller
from chatkeep.core.usage import MonthlyUsage
from chatkeep.storage.database import Database


async def monthly(
    db: Database,
    caller: Caller,
    *,
    month: str | None = None,
    user_id: str | None = None,
    token_id: uuid.UUID | None = None,
) -> MonthlyUsage:
    """Totals for one month by model, user, token and day; members only ever see their own."""
    async with db.read() as session:
        return await usage.monthly(
            session, principal=caller.principal, month=month, user_id=user_id, token_id=token_id
        )
