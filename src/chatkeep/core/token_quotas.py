"""Per-user token quotas: how many model tokens one user may use per UTC day, week and month.

Each user may have their own limits (set by staff); where they have none, the organisation's defaults
(`user_daily_token_limit` … in its AI config) apply. A limit of -1, or no limit anywhere, means none.
Usage is the user's input plus output tokens in the usage ledger since the period began (00:00 UTC;
Monday for weeks; the 1st for months). As with the organisation's monthly quota, the check runs before
the model is called, so the turn that crosses a limit completes and the next one is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.errors import RateLimited
from chatkeep.core.org_config import AIConfig
from chatkeep.core.principals import Principal
from chatkeep.storage.models import USAGE_RECORDS, TokenQuota
from chatkeep.storage.prepared import Prepared, Statements, on
from chatkeep.storage.types import utcnow

PERIODS = ("daily", "weekly", "monthly")
UNLIMITED = -1
# The `limit` of the RateLimited error each period raises.
LIMIT_NAMES = {period: f"{period}_user_token_quota" for period in PERIODS}


@dataclass(frozen=True, slots=True)
class PeriodUsage:
    """One period's limit (the user's own; None: the default applies), usage and what remains."""

    period: str
    own_limit: int | None
    default_limit: int | None
    usage: int
    resets_at: datetime

    @property
    def limit(self) -> int | None:
        """The limit in force; None means unlimited."""
        value = self.default_limit if self.own_limit is None else self.own_limit
        return None if value is None or value == UNLIMITED else value

    @property
    def remaining(self) -> int | None:
        limit = self.limit
        return None if limit is None else max(limit - self.usage, 0)


def period_window(period: str, now: datetime) -> tuple[datetime, datetime]:
    """The UTC day, ISO week (from Monday) or calendar month containing `now`."""
    day = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if period == "daily":
        return day, day + timedelta(days=1)
    if period == "weekly":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    return start, datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=UTC)


def defaults(config: AIConfig) -> dict[str, int | None]:
    return {
        "daily": config.user_daily_token_limit,
        "weekly": config.user_weekly_token_limit,
        "monthly": config.user_monthly_token_limit,
    }


@dataclass(frozen=True, slots=True)
class OwnLimits:
    """A user's own limits as read with a turn's other facts (the fields of a TokenQuota row)."""

    daily_limit: int | None
    weekly_limit: int | None
    monthly_limit: int | None


_READ = object()  # `check`/`usage` read the user's own limits themselves


async def own_limits(
    session: AsyncSession | Statements, *, principal: Principal, user_id: str
) -> OwnLimits | None:
    """The user's own limits; None when staff set none (the organisation's defaults apply)."""
    row = await on(session).first(_OWN_LIMITS, {"org_id": principal.org_id, "user_id": user_id})
    return None if row is None else OwnLimits(*row)


async def usage(
    session: AsyncSession | Statements,
    *,
    principal: Principal,
    user_id: str,
    config: AIConfig,
    now: datetime | None = None,
    own: TokenQuota | OwnLimits | object | None = _READ,
) -> list[PeriodUsage]:
    """The user's limits and usage in each period (`own`: the user's own limits, when already read)."""
    now = now or utcnow()
    row = await own_limits(session, principal=principal, user_id=user_id) if own is _READ else own
    fallback = defaults(config)
    result = []
    for period in PERIODS:
        start, end = period_window(period, now)
        result.append(
            PeriodUsage(
                period=period,
                own_limit=getattr(row, f"{period}_limit") if row is not None else None,
                default_limit=fallback[period],
                usage=await _tokens(session, principal=principal, user_id=user_id, start=start),
                resets_at=end,
            )
        )
    return result


async def check(
    session: AsyncSession | Statements,
    *,
    principal: Principal,
    user_id: str,
    config: AIConfig,
    own: TokenQuota | OwnLimits | object | None = _READ,
) -> None:
    """RateLimited (naming the period) when the user has used up a day's, week's or month's tokens.
    `own`: the user's own limits (None: none set), when the caller read them already."""
    row = await own_limits(session, principal=principal, user_id=user_id) if own is _READ else own
    fallback = defaults(config)
    if row is None and all(v is None or v == UNLIMITED for v in fallback.values()):
        return  # nothing limits this user: no need to read the ledger
    for entry in await usage(session, principal=principal, user_id=user_id, config=config, own=row):
        remaining = entry.remaining
        if remaining is not None and remaining <= 0:
            raise RateLimited(
                f"{entry.period.capitalize()} token limit exceeded.",
                limit=LIMIT_NAMES[entry.period],
                retry_after=(entry.resets_at - utcnow()).total_seconds(),
                reset_at=entry.resets_at,
            )


async def set_limits(
    session: AsyncSession, *, principal: Principal, user_id: str, limits: dict[str, int | None]
) -> TokenQuota:
    """Set some of a user's limits (absent periods keep theirs; None: back to the default)."""
    row = await session.get(TokenQuota, (principal.org_id, user_id), with_for_update=True)
    if row is None:
        row = TokenQuota(org_id=principal.org_id, user_id=user_id)
        session.add(row)
    for period, value in limits.items():
        setattr(row, f"{period}_limit", value)
    row.updated_at = utcnow()
    await session.flush()
    return row


async def _tokens(
    session: AsyncSession | Statements, *, principal: Principal, user_id: str, start: datetime
) -> int:
    params = {"org_id": principal.org_id, "user_id": user_id, "start": start}
    row = await on(session).first(_USER_TOKENS, params)
    return int(row[0] or 0) if row else 0


_QUOTAS = cast(Table, TokenQuota.__table__)
_OWN_LIMITS = Prepared(
    select(_QUOTAS.c.daily_limit, _QUOTAS.c.weekly_limit, _QUOTAS.c.monthly_limit).where(
        _QUOTAS.c.org_id == bindparam("org_id"), _QUOTAS.c.user_id == bindparam("user_id")
    )
)
_USER_TOKENS = Prepared(
    select(func.coalesce(func.sum(USAGE_RECORDS.c.input_tokens + USAGE_RECORDS.c.output_tokens), 0)).where(
        USAGE_RECORDS.c.org_id == bindparam("org_id"),
        USAGE_RECORDS.c.user_id == bindparam("user_id"),
        USAGE_RECORDS.c.created_at >= bindparam("start"),
    )
)
