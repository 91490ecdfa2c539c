"""Waldur's per-user token quotas: `GET /api/chat-quota/usage/` and `POST /api/chat-quota/set_quota/`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from chatkeep.core.use_cases import token_quotas as quota_use
from chatkeep.dialects.deps import DB, WaldurCaller
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.waldur import render
from chatkeep.dialects.waldur.params import QueryErrors, UuidText
from chatkeep.dialects.waldur.schemas import BadRequest, ErrorOut, QuotaUsageOut, SetQuotaIn

router = APIRouter(route_class=OffLoopJSONRoute, tags=["chat-quota"], responses={401: {"model": ErrorOut}})


@router.get(
    "/chat-quota/usage/",
    operation_id="chat_quota_usage_retrieve",
    response_model=None,
    responses={200: {"model": QuotaUsageOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}},
)
async def quota_usage(
    caller: WaldurCaller,
    db: DB,
    user_uuid: Annotated[
        UuidText, Query(description="Whose (staff only); omitted: the caller's own.")
    ] = None,
) -> dict[str, Any]:
    """A user's token limits, usage and what remains today, this week and this month."""
    errors = QueryErrors()
    user = errors.uuid("user_uuid", user_uuid)
    errors.raise_if_any()
    return render.quota_usage(await quota_use.usage(db, caller, user))


@router.post(
    "/chat-quota/set_quota/",
    operation_id="chat_quota_set_quota",
    status_code=200,
    response_class=Response,
    responses={
        200: {"description": "Saved; the body is empty"},
        400: {"model": BadRequest},
        403: {"model": ErrorOut},
        404: {"model": ErrorOut},
    },
)
async def set_quota(body: SetQuotaIn, caller: WaldurCaller, db: DB) -> Response:
    """Set a user's limits (staff only): a limit left out stays, null means the default, -1 unlimited."""
    limits = {
        period: getattr(body, f"{period}_limit")
        for period in ("daily", "weekly", "monthly")
        if f"{period}_limit" in body.model_fields_set
    }
    await quota_use.set_limits(db, caller, body.user_uuid, limits=limits)
    return Response(status_code=200)
