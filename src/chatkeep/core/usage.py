"""The usage ledger: one row per turn, and monthly statistics as queries over it."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, insert, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.errors import InvalidInput
from chatkeep.core.principals import Principal
from chatkeep.storage.models import USAGE_RECORDS, UsageRecord
from chatkeep.storage.prepared import Prepared, Statements, on
from chatkeep.storage.types import utcnow

# YYYY-MM with a year from 0001 (datetime has no year 0); the OpenAPI document shows the same pattern.
MONTH_PATTERN = "^([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)


async def record(
    session: AsyncSession | Statements,
    *,
    principal: Principal,
    user_id: str,
    model: str,
    input_tokens: int,
    output_tokens: int,
    latency_ms: int,
    status: str,
    cost_cents: float = 0.0,
    conversation_id: uuid.UUID | None = None,
    kind: str = "chat",
) -> None:
    """Add a ledger row in the caller's transaction (the same one that stores the answer).

    A prepared table INSERT: every turn writes one (see storage.prepared).
    """
    await record_row(
        session,
        org_id=principal.org_id,
        token_id=principal.token_id,
        user_id=user_id,
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency_ms=latency_ms,
        status=status,
        cost_cents=cost_cents,
        conversation_id=conversation_id,
        kind=kind,
    )


async def record_row(
    session: AsyncSession | Statements,
    *,
    org_id: uuid.UUID,
    token_id: uuid.UUID | None,
    user_id: str,
    model: str,
    input_tokens: int,
    output_tokens: int,
    latency_ms: int,
    status: str,
    cost_cents: float = 0.0,
    conversation_id: uuid.UUID | None = None,
    kind: str = "chat",
) -> None:
    """Add a ledger row for a caller known only by its organisation and token (a recovered turn's)."""
    row = dict(
        id=uuid.uuid4(),
        org_id=org_id,
        user_id=user_id,
        token_id=token_id,
        conversation_id=conversation_id,
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_cents=cost_cents,
        latency_ms=latency_ms,
        status=status,
        kind=kind,
        created_at=utcnow(),
    )
    await on(session).run(_INSERT, row)


_INSERT = Prepared(insert(USAGE_RECORDS))  # every column a parameter, named as the column


def month_bounds(month: str | None) -> tuple[str, datetime, datetime]:
    """`YYYY-MM` (default: the current UTC month) → (label, start, end)."""
    if month is None:
        now = utcnow()
        year, mon = now.year, now.month
    else:
        match = _MONTH.fullmatch(month)
        if not match:
            raise InvalidInput("month must be YYYY-MM", field="month")
        year, mon = int(match.group(1)), int(match.group(2))
    start = datetime(year, mon, 1, tzinfo=UTC)
    # December 9999 ends after the last datetime there is.
    end = (
        datetime.max.replace(tzinfo=UTC)
        if (year, mon) == (9999, 12)
        else datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=UTC)
    )
    return f"{year:04d}-{mon:02d}", start, end


@dataclass
class Bucket:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_cents: float = 0.0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class MonthlyUsage:
    month: str
    total: Bucket
    by_model: dict[str, Bucket] = field(default_factory=dict)
    by_user: dict[str, Bucket] = field(default_factory=dict)
    by_token: dict[str, Bucket] = field(default_factory=dict)
    daily: dict[str, Bucket] = field(default_factory=dict)


async def monthly(
    session: AsyncSession,
    *,
    principal: Principal,
    month: str | None = None,
    user_id: str | None = None,
    token_id: uuid.UUID | None = None,
) -> MonthlyUsage:
    """Totals for one month of the caller's organisation, by model, user, token and day.

    Members only ever see their own usage, and of the tokens that acted for them only their own: the
    ids of service tokens (and of other tokens) are grouped under "" for them.
    """
    label, start, end = month_bounds(month)
    user_filter = principal.visible_user(user_id)
    base = select(UsageRecord).where(
        UsageRecord.org_id == principal.org_id, UsageRecord.created_at >= start, UsageRecord.created_at < end
    )
    if user_filter is not None:
        base = base.where(UsageRecord.user_id == user_filter)
    if token_id is not None:
        base = base.where(UsageRecord.token_id == token_id)
    sub = base.subquery()
    result = MonthlyUsage(month=label, total=Bucket())
    day = _utc_day(sub.c.created_at, session.get_bind().dialect.name)
    groupings = {
        "by_model": sub.c.model,
        "by_user": sub.c.user_id,
        "by_token": sub.c.token_id if principal.sees_whole_org else _own_token(sub.c.token_id, principal),
        "daily": day,
    }
    for name, column in groupings.items():
        totals = (
            func.count(),
            func.sum(sub.c.input_tokens),
            func.sum(sub.c.output_tokens),
            func.sum(sub.c.cost_cents),
        )
        rows = await session.execute(select(column, *totals).group_by(column))
        target: dict[str, Bucket] = getattr(result, name)
        for key, count, tokens_in, tokens_out, cost in rows.all():
            name_of = "" if key is None else str(key)
            target[name_of] = Bucket(int(count), int(tokens_in or 0), int(tokens_out or 0), float(cost or 0))
    for bucket in result.by_model.values():
        result.total.requests += bucket.requests
        result.total.input_tokens += bucket.input_tokens
        result.total.output_tokens += bucket.output_tokens
        result.total.cost_cents += bucket.cost_cents
    return result


def _own_token(column: Any, principal: Principal) -> Any:
    """The token id where it is the principal's own token, else NULL (rendered as "")."""
    # An expression even without a token: PostgreSQL refuses to group by a constant.
    own = column == principal.token_id if principal.token_id is not None else column.is_(None)
    return case((own, column), else_=null())


def _utc_day(column: Any, dialect: str) -> Any:
    """The UTC calendar day of a timestamp as YYYY-MM-DD (SQLite stores UTC text; PostgreSQL timestamptz)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)
