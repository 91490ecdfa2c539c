"""The usage page: tokens and requests per day and per model, this month and last, and what is left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from chatkeep.core import usage
from chatkeep.core.errors import ChatkeepError
from chatkeep.core.limits import Limits, effective_limit, month_window, tokens_used
from chatkeep.dialects.console.charts import BarChart, bar_chart
from chatkeep.dialects.console.deps import SignedIn, database
from chatkeep.dialects.console.templating import page
from chatkeep.storage.types import utcnow

router = APIRouter()


@dataclass(frozen=True, slots=True)
class MonthView:
    usage: usage.MonthlyUsage
    tokens_chart: BarChart
    requests_chart: BarChart
    model_chart: BarChart
    user_chart: BarChart | None


@dataclass(frozen=True, slots=True)
class LimitsView:
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


def _days(month: str) -> list[str]:
    """Every calendar day of `month` (YYYY-MM), as YYYY-MM-DD."""
    year, mon = (int(part) for part in month.split("-"))
    day = date(year, mon, 1)
    days = []
    while day.month == mon:
        days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def _month_view(monthly: usage.MonthlyUsage, *, per_user: bool) -> MonthView:
    days = _days(monthly.month)
    empty = usage.Bucket()
    daily = [(day, monthly.daily.get(day, empty)) for day in days]
    models = sorted(monthly.by_model.items(), key=lambda item: -item[1].tokens)
    users = sorted(monthly.by_user.items(), key=lambda item: -item[1].tokens)
    return MonthView(
        usage=monthly,
        tokens_chart=bar_chart("Tokens per day", "tokens", [(d[-2:], b.tokens) for d, b in daily]),
        requests_chart=bar_chart("Requests per day", "requests", [(d[-2:], b.requests) for d, b in daily]),
        model_chart=bar_chart("Tokens per model", "tokens", [(name, b.tokens) for name, b in models]),
        user_chart=bar_chart("Tokens per user", "tokens", [(name, b.tokens) for name, b in users])
        if per_user
        else None,
    )


def _previous_month(now: datetime) -> str:
    first = datetime(now.year, now.month, 1, tzinfo=UTC)
    return (first - timedelta(days=1)).strftime("%Y-%m")


@router.get("/usage", response_class=HTMLResponse)
async def usage_page(request: Request, visitor: SignedIn, user: str | None = None) -> HTMLResponse:
    """This month's and last month's usage (an admin's covers the organisation, by user too)."""
    principal = visitor.principal
    limits: Limits = request.app.state.limits
    now = utcnow()
    error = None
    chosen_user = user or None
    async with database(request).read() as session:
        try:
            months = [
                await usage.monthly(session, principal=principal, month=month, user_id=chosen_user)
                for month in (now.strftime("%Y-%m"), _previous_month(now))
            ]
        except ChatkeepError as exc:
            error, chosen_user = exc.message, None
            months = [
                await usage.monthly(session, principal=principal, month=month)
                for month in (now.strftime("%Y-%m"), _previous_month(now))
            ]
        start, end = month_window(now.timestamp())
        used = await tokens_used(session, principal=principal, start=start, end=end)
    limits_view = LimitsView(
        requests_per_minute=effective_limit(visitor.config.requests_per_minute, limits.requests_per_minute),
        monthly_token_quota=effective_limit(visitor.config.monthly_token_quota, limits.monthly_token_quota),
        tokens_used=used,
        resets_at=end,
    )
    per_user = principal.sees_whole_org and chosen_user is None
    context = {
        "section": "usage",
        "visitor": visitor,
        "months": [_month_view(m, per_user=per_user) for m in months],
        "limits": limits_view,
        "chosen_user": chosen_user,
        "error": error,
    }
    return page(request, "usage.html", context)
