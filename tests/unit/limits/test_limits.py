"""core.limits on the real database: which limit applies, month windows, the ledger sum, both checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chatkeep.core import organisations
from chatkeep.core.errors import RateLimited
from chatkeep.core.limits import Limits, effective_limit, month_window, tokens_used
from chatkeep.core.org_config import AIConfig
from chatkeep.core.principals import Principal, Role
from chatkeep.storage.database import Database
from chatkeep.storage.models import UsageRecord
from tests.unit.limits.conftest import Clock


@pytest.mark.parametrize(
    ("configured", "default", "expected"),
    [(None, None, None), (None, 50, 50), (10, 50, 10), (-1, 50, None), (0, 50, 0), (None, -1, None)],
)
def test_the_organisations_value_wins_and_minus_one_means_unlimited(
    configured: int | None, default: int | None, expected: int | None
) -> None:
    assert effective_limit(configured, default) == expected


@pytest.mark.parametrize(
    ("moment", "start", "end"),
    [
        (datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2031, 12, 1), datetime(2032, 1, 1)),
        (datetime(2032, 2, 1, 0, 0, 0, tzinfo=UTC), datetime(2032, 2, 1), datetime(2032, 3, 1)),
        (datetime(2032, 2, 29, 12, 0, 0, tzinfo=UTC), datetime(2032, 2, 1), datetime(2032, 3, 1)),
    ],
)
def test_month_windows_are_utc_calendar_months(moment: datetime, start: datetime, end: datetime) -> None:
    assert month_window(moment.timestamp()) == (start.replace(tzinfo=UTC), end.replace(tzinfo=UTC))


async def _org(db: Database) -> Principal:
    async with db.write() as session:
        org = await organisations.create(session, name=f"org-{uuid.uuid4().hex[:10]}")
    return Principal(org_id=org.id, org_name=org.name, user_id="u", role=Role.SERVICE)


async def _spend(db: Database, principal: Principal, at: datetime, tokens_in: int, tokens_out: int) -> None:
    async with db.write() as session:
        session.add(
            UsageRecord(
                org_id=principal.org_id,
                user_id="u",
                model="m",
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                status="failed",
                kind="embedding",
                created_at=at,
            )
        )


async def test_the_ledger_sum_covers_this_organisations_month_only(db: Database) -> None:
    principal, stranger = await _org(db), await _org(db)
    start, end = datetime(2031, 5, 1, tzinfo=UTC), datetime(2031, 6, 1, tzinfo=UTC)
    await _spend(db, principal, start - timedelta(seconds=1), 1000, 1000)  # April
    await _spend(db, principal, start, 10, 5)  # the first instant of May
    await _spend(db, principal, end - timedelta(seconds=1), 7, 3)  # the last second of May
    await _spend(db, principal, end, 1000, 0)  # June
    await _spend(db, stranger, start + timedelta(days=3), 1000, 1000)
    async with db.read() as session:
        assert await tokens_used(session, principal=principal, start=start, end=end) == 25
        assert await tokens_used(session, principal=stranger, start=end, end=end + timedelta(days=30)) == 0


async def test_the_quota_refuses_at_the_quota_with_the_wait_until_the_first(db: Database) -> None:
    principal = await _org(db)
    moment = datetime(2031, 7, 31, 23, 0, 0, tzinfo=UTC)
    clock = Clock(moment.timestamp())
    limits = Limits(monthly_token_quota=100, clock=clock)
    await _spend(db, principal, moment - timedelta(days=1), 60, 39)
    async with db.read() as session:
        await limits.check_quota(session, principal=principal, config=AIConfig())  # 99 < 100
    await _spend(db, principal, moment, 1, 0)
    async with db.read() as session:
        with pytest.raises(RateLimited) as refused:
            await limits.check_quota(session, principal=principal, config=AIConfig())
        assert refused.value.retry_after == 3600 and refused.value.limit == "monthly_token_quota"
        assert refused.value.reset_at == datetime(2031, 8, 1, tzinfo=UTC)
        await limits.check_quota(session, principal=principal, config=AIConfig(monthly_token_quota=101))
        clock.advance(3600)
        await limits.check_quota(session, principal=principal, config=AIConfig())


async def test_request_limits_count_per_window_and_say_when_the_window_ends(db: Database) -> None:
    principal, config = await _org(db), AIConfig()
    clock = Clock(6_000_000_000 + 45.0)  # 45 s into a minute
    limits = Limits(requests_per_minute=2, clock=clock)
    await limits.check_request(principal=principal, config=config)
    await limits.check_request(principal=principal, config=config)
    with pytest.raises(RateLimited) as refused:
        await limits.check_request(principal=principal, config=config)
    assert refused.value.retry_after == 15 and refused.value.limit == "requests_per_minute"
    assert refused.value.reset_at == datetime.fromtimestamp(6_000_000_060, tz=UTC)
    await limits.check_request(principal=principal, config=AIConfig(requests_per_minute=-1))
    clock.advance(15)
    await limits.check_request(principal=principal, config=config)
