"""The usage page: tokens and requests per day and per model, this month and last, and what is left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from chatkeep.core import usage as usage_ledger
from chatkeep.core.errors import ChatkeepError
from chatkeep.core.use_cases import quota, usage
from chatkeep.dialects.console.charts import BarChart, bar_chart
from chatkeep.dialects.console.deps import SignedIn
from chatkeep.dialects.console.templating import page
from chatkeep.dialects.deps import DB, Limits
from chatkeep.storage.types import utcnow

router = APIRouter()


@dataclass(frozen=True, slots=True)
class MonthView:
    usage: usage_ledger.MonthlyUsage
    tokens_chart: BarChart
    requests_chart: BarChart
    model_chart: BarChart
    model_requests_chart: BarChart
    user_chart: BarChart | None


def _days(month: str) -> list[str]:
    """Every calendar day of `month` (YYYY-MM), as YYYY-MM-DD."""
    year, mon = (int(part) for part in month.split("-"))
    day = date(year, mon, 1)
    days = []
    while day.month == mon:
        days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def _month_view(monthly: usage_ledger.MonthlyUsage, *, per_user: bool) -> MonthView:
    days = _days(monthly.month)
    empty = usage_ledger.Bucket()
    daily = [(day, monthly.daily.get(day, empty)) for day in days]
    models = sorted(monthly.by_model.items(), key=lambda item: -item[1].tokens)
    users = sorted(monthly.by_user.items(), key=lambda item: -item[1].tokens)
    return MonthView(
        usage=monthly,
        tokens_chart=bar_chart("Tokens per day", "tokens", [(d[-2:], b.tokens) for d, b in daily]),
        requests_chart=bar_chart("Requests per day", "requests", [(d[-2:], b.requests) for d, b in daily]),
        model_chart=bar_chart("Tokens per model", "tokens", [(name, b.tokens) for name, b in models]),
        model_requests_chart=bar_chart(
            "Requests per model", "requests", [(name, b.requests) for name, b in models]
        ),
        user_chart=bar_chart("Tokens per user", "tokens", [(name, b.tokens) for name, b in users])
        if per_user
        else None,
    )


def _previous_month(now: datetime) -> str:
    first = datetime(now.year, now.month, 1, tzinfo=UTC)
    return (first - timedelta(days=1)).strftime("%Y-%m")


@router.get("/usage", response_class=HTMLResponse)
async def usage_page(
    request: Request, visitor: SignedIn, db: DB, limits: Limits, user: str | None = None
) -> HTMLResponse:
    """This month's and last month's usage (an admin's covers the organisation, by user too)."""
    now = utcnow()
    months = (now.strftime("%Y-%m"), _previous_month(now))
    chosen_user = user or None
    error = None
    try:
        found = [await usage.monthly(db, visitor.caller, month=m, user_id=chosen_user) for m in months]
    except ChatkeepError as exc:  # a member asking for another user's usage
        error, chosen_user = exc.message, None
        found = [await usage.monthly(db, visitor.caller, month=m) for m in months]
    per_user = visitor.principal.sees_whole_org and chosen_user is None
    context = {
        "section": "usage",
        "visitor": visitor,
        "months": [_month_view(m, per_user=per_user) for m in found],
        "limits": await quota.current(db, visitor.caller, limits),
        "chosen_user": chosen_user,
        "error": error,
    }
    return page(request, "usage.html", context)
