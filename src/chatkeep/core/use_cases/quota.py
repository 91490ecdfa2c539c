"""Quota use case: the limits that apply to the caller's organisation, and its tokens left this month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatkeep.core.callers import Caller
from chatkeep.core.limits import Limits, effective_limit, month_window, tokens_used
from chatkeep.storage.database import Database


@dataclass(frozen=True, slots=True)
class Quota:
    """None means no limit."""

    requests_per_minute: int | None
    monthly_token_quota: int | None
    tokens_used: int
    resets_at: datetime

    @property
    def tokens_left(self) -> int | None:
        if self.monthly_token_quota is None:
            return None
        return max(self.monthly_token_quota - self.tokens_used, 0)

    @property
    def percent_used(self) -> int:
        if not self.monthly_token_quota:
            return 0
        return min(100, round(100 * self.tokens_used / self.monthly_token_quota))


async def current(db: Database, caller: Caller, limits: Limits) -> Quota:
    """The organisation's limits (its config over the server's defaults) and this month's token use."""
    start, end = month_window(limits.clock())
    async with db.read() as session:
        used = await tokens_used(session, principal=caller.principal, start=start, end=end)
    return Quota(
        requests_per_minute=effective_limit(caller.config.requests_per_minute, limits.requests_per_minute),
        monthly_token_quota=effective_limit(caller.config.monthly_token_quota, limits.monthly_token_quota),
        tokens_used=used,
        resets_at=end,
    )
