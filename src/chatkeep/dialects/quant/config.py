"""The organisation's AI config (the legacy Quant `/ai/config`), plus chatkeep's guard policy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import Field

from chatkeep.core import org_config
from chatkeep.core.use_cases import org_config as config_use
from chatkeep.dialects.deps import DB, QuantCaller, Registry
from chatkeep.dialects.json_body import OffLoopJSONRoute
from chatkeep.dialects.quant.schemas import WireModel

router = APIRouter(route_class=OffLoopJSONRoute, tags=["AI Services"])


class ConfigUpdate(WireModel):
    enabled_models: list[str] | None = None
    default_model: str | None = None
    # The bounds of core.org_config.AIConfig, stated here so the OpenAPI document shows them.
    max_tokens: int | None = Field(default=None, ge=1, le=65536)
    temperature: float | None = Field(default=None, ge=0, le=2)
    system_prompt: str | None = Field(default=None, max_length=100_000)
    guard_policy: dict[str, Any] | None = None
    requests_per_minute: int | None = Field(default=None, ge=-1)
    monthly_token_quota: int | None = Field(default=None, ge=-1)
    retention_days: int | None = Field(default=None, ge=1, le=36_500)
    user_daily_token_limit: int | None = Field(default=None, ge=-1)
    user_weekly_token_limit: int | None = Field(default=None, ge=-1)
    user_monthly_token_limit: int | None = Field(default=None, ge=-1)


@router.get(
    "/config",
    operation_id="getAIConfig",
    response_model=org_config.AIConfig,
    # Keys the caller may not see are left out, not shown as null (which would read as "none set").
    response_model_exclude_unset=True,
)
async def get_config(caller: QuantCaller) -> dict[str, Any]:
    """The organisation's AI configuration; `system_prompt` and `guard_policy` only for admin tokens."""
    return config_use.visible(caller)


@router.put(
    "/config",
    operation_id="updateAIConfig",
    status_code=200,
    response_class=Response,
    responses={200: {"description": "Saved; the body is empty"}},
)
async def update_config(body: ConfigUpdate, caller: QuantCaller, db: DB, registry: Registry) -> Response:
    """Change the configuration (admins only); fields left out keep their value. 200 with no body."""
    known = {m.id for m in registry.models()}
    await config_use.update(db, caller, changes=body.model_dump(exclude_unset=True), known_models=known)
    return Response(status_code=200)
