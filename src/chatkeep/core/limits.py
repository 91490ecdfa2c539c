"""Per-organisation limits: API requests per minute, and model tokens per calendar month (UTC).

Requests: every authenticated API call of an organisation counts, in fixed one-minute windows aligned to
the clock (hh:mm:00 to hh:mm:59). Fixed windows have an honest edge: a client can get up to twice the
limit through in the seconds around a window boundary. Retry-After is exact: the seconds to the boundary.

Tokens: the month-to-date sum of the usage ledger (input + output tokens of every turn and embedding,
whatever its status). The quota is checked before a model is called, when the call's own tokens are not
known, so the turn that crosses the quota completes, as do turns already running at the same time; every
later one is refused until 00:00 UTC on the 1st of the next month.

Values come from the organisation's AI config: null there means the server default, -1 means no limit.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core import org_config
from chatkeep.core.errors import RateLimited
from chatkeep.core.principals import Principal
from chatkeep.observability import observe
from chatkeep.storage.models import USAGE_RECORDS
from chatkeep.storage.prepared import Prepared, Statements, on
from chatkeep.storage.window_counters import CounterUnavailable, InProcessCounter, WindowCounter

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
UNLIMITED = -1
REQUESTS = "requests_per_minute"
TOKENS = "monthly_token_quota"
_WARN_EVERY_SECONDS = 60.0


def effective_limit(configured: int | None, default: int | None) -> int | None:
    """The limit that applies (None: no limit) from the organisation's value and the server default."""
    value = default if configured is None else configured
    return None if value is None or value == UNLIMITED else value


def month_window(now: float) -> tuple[datetime, datetime]:
    """The UTC calendar month containing `now` (epoch seconds): [first day 00:00, next month's 1st)."""
    moment = datetime.fromtimestamp(now, tz=UTC)
    start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    end = datetime(moment.year + (moment.month == 12), moment.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


class Limits:
    """Checks an organisation's limits. `clock` (epoch seconds) is replaceable so tests can move time."""

    def __init__(
        self,
        counter: WindowCounter | None = None,
        *,
        requests_per_minute: int | None = None,
        monthly_token_quota: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.counter: WindowCounter = counter or InProcessCounter()
        self.requests_per_minute = requests_per_minute
        self.monthly_token_quota = monthly_token_quota
        self.clock = clock
        self._warned_at = -math.inf

    async def check_request(self, *, principal: Principal, config: org_config.AIConfig) -> None:
        """Count one API call of the caller's organisation; RateLimited once it is over its limit.

        If the shared counter is unreachable the call is allowed (and a warning logged): an outage of the
        limiter should not become an outage of the API.
        """
        limit = effective_limit(config.requests_per_minute, self.requests_per_minute)
        if limit is None:
            return
        now = self.clock()
        window_start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        try:
            count = await self.counter.hit(
                f"rpm:{principal.org_id}", window_start=window_start, ttl=2 * WINDOW_SECONDS
            )
        except CounterUnavailable as exc:
            self._warn_unavailable(now, exc)
            return
        if count > limit:
            observe.refused(REQUESTS)
            reset = window_start + WINDOW_SECONDS
            raise RateLimited(
                f"rate limit exceeded: {limit} requests per minute for this organisation",
                limit=REQUESTS,
                retry_after=reset - now,
                reset_at=datetime.fromtimestamp(reset, tz=UTC),
            )

    def has_quota(self, config: org_config.AIConfig) -> bool:
        """Whether the organisation's tokens are capped (and `check_quota` must read the ledger)."""
        return effective_limit(config.monthly_token_quota, self.monthly_token_quota) is not None

    async def check_quota(
        self, session: AsyncSession | Statements, *, principal: Principal, config: org_config.AIConfig
    ) -> None:
        """RateLimited when the organisation's tokens this month have reached its monthly quota."""
        quota = effective_limit(config.monthly_token_quota, self.monthly_token_quota)
        if quota is None:
            return
        now = self.clock()
        start, end = month_window(now)
        used = await tokens_used(session, principal=principal, start=start, end=end)
        if used >= quota:
            observe.refused(TOKENS)
            raise RateLimited(
                f"monthly token quota exceeded: {used} of {quota} tokens used this month",
                limit=TOKENS,
                retry_after=end.timestamp() - now,
                reset_at=end,
            )

    def _warn_unavailable(self, now: float, exc: Exception) -> None:
        # At most one warning a minute: a Redis outage must not flood the log with one line per request.
        if now - self._warned_at >= _WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("rate-limit counter unavailable (%s); requests are not being limited", exc)


async def tokens_used(
    session: AsyncSession | Statements, *, principal: Principal, start: datetime, end: datetime
) -> int:
    """Input plus output tokens the caller's organisation used in [start, end), from the usage ledger."""
    row = await on(session).first(_TOKENS_USED, {"org_id": principal.org_id, "start": start, "end": end})
    return int(row[0] or 0) if row else 0


_TOKENS_USED = Prepared(
    select(func.coalesce(func.sum(USAGE_RECORDS.c.input_tokens + USAGE_RECORDS.c.output_tokens), 0)).where(
        USAGE_RECORDS.c.org_id == bindparam("org_id"),
        USAGE_RECORDS.c.created_at >= bindparam("start"),
        USAGE_RECORDS.c.created_at < bindparam("end"),
    )
)
