"""Quant usage statistics: the legacy typed shape plus the newer groupBy/include breakdowns."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import WithJsonSchema

from chatkeep.core import usage
from chatkeep.core.errors import InvalidInput
from chatkeep.core.use_cases import usage as usage_use
from chatkeep.dialects.deps import DB, QuantCaller
from chatkeep.storage.types import utcnow

router = APIRouter(tags=["AI Monitoring"])
GROUPS = ("model", "user", "token")


def _bucket(bucket: usage.Bucket) -> dict[str, Any]:
    return {
        "requests": bucket.requests,
        "tokens": bucket.tokens,
        "inputTokens": bucket.input_tokens,
        "outputTokens": bucket.output_tokens,
        "costCents": round(bucket.cost_cents, 6),
    }


@router.get(
    "/usage",
    operation_id="getAIUsageStats",
    response_model=None,
    responses={422: {"description": "An unknown groupBy or include value"}},
)
async def usage_stats(
    caller: QuantCaller,
    db: DB,
    month: Annotated[
        str | None, Query(max_length=7), WithJsonSchema({"type": "string", "pattern": usage.MONTH_PATTERN})
    ] = None,
    # Any string is accepted and answered with 422 (the spec's status); the schema lists the valid ones.
    groupBy: Annotated[
        str, Query(max_length=16), WithJsonSchema({"type": "string", "enum": list(GROUPS)})
    ] = "model",
    include: Annotated[
        str | None, Query(max_length=16), WithJsonSchema({"type": "string", "enum": ["daily"]})
    ] = None,
    userId: Annotated[str | None, Query(max_length=255)] = None,
    tokenId: Annotated[
        str | None, Query(max_length=64), WithJsonSchema({"type": "string", "format": "uuid"})
    ] = None,
) -> Any:
    """Totals for a month (default: this one); members see only their own usage."""
    if groupBy not in GROUPS:
        return JSONResponse(
            {
                "error": "unprocessable",
                "message": f"groupBy must be one of {', '.join(GROUPS)}",
                "field": "groupBy",
            },
            status_code=422,
        )
    if include not in (None, "daily"):
        return JSONResponse(
            {"error": "unprocessable", "message": "include must be 'daily'", "field": "include"},
            status_code=422,
        )
    token = _token_id(tokenId)
    stats = await usage_use.monthly(db, caller, month=month, user_id=userId, token_id=token)
    groups = {"model": stats.by_model, "user": stats.by_user, "token": stats.by_token}
    body: dict[str, Any] = {
        "total_requests": stats.total.requests,
        "total_tokens": stats.total.tokens,
        "by_model": {k: {"requests": v.requests, "tokens": v.tokens} for k, v in stats.by_model.items()},
        "month": stats.month,
        "groupBy": groupBy,
        "totals": _bucket(stats.total),
        "breakdown": {k: _bucket(v) for k, v in groups[groupBy].items()},
    }
    if include == "daily":
        body["daily"] = [{"date": day, **_bucket(b)} for day, b in sorted(stats.daily.items())]
    return body


@router.get("/usage/me", operation_id="getMyUsage")
async def my_usage(caller: QuantCaller, db: DB) -> dict[str, Any]:
    """The caller's own spend this month and today. `quota` is null: this shape has no field for the
    organisation's monthly token quota (see `/ai/config`)."""
    principal = caller.principal
    stats = await usage_use.monthly(db, caller, user_id=principal.user_id)
    today = utcnow().date().isoformat()
    daily = stats.daily.get(today, usage.Bucket())
    return {
        "userId": principal.user_id,
        "currentMonth": stats.month,
        "monthly": {"spendCents": round(stats.total.cost_cents, 6), "requestCount": stats.total.requests},
        "daily": {"spendCents": round(daily.cost_cents, 6), "requestCount": daily.requests},
        "quota": None,
        "resetsAt": (
            utcnow().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        ).isoformat(),
    }


def _token_id(raw: str | None) -> uuid.UUID | None:
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidInput("tokenId must be a token id (UUID)", field="tokenId") from None
