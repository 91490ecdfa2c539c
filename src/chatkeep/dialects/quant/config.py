"""The organisation's AI config (the legacy Quant `/ai/config`), plus chatkeep's guard policy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field

from chatkeep.core import org_config
from chatkeep.core.errors import Forbidden
from chatkeep.dialects.quant.deps import DB, OrgPrincipal
from chatkeep.dialects.quant.schemas import WireModel

router = APIRouter(tags=["AI Services"])


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


@router.get("/config", operation_id="getAIConfig", response_model=org_config.AIConfig)
async def get_config(principal: OrgPrincipal, db: DB) -> dict[str, Any]:
    """The organisation's AI configuration."""
    async with db.read() as session:
        config = await org_config.get(session, principal=principal)
    return config.model_dump()


@router.put(
    "/config",
    operation_id="updateAIConfig",
    status_code=200,
    response_class=Response,
    responses={200: {"description": "Saved; the body is empty"}},
)
async def update_config(body: ConfigUpdate, request: Request, principal: OrgPrincipal, db: DB) -> Response:
    """Change the configuration (admins only); fields left out keep their value. 200 with no body."""
    if principal.role != "admin":
        raise Forbidden("only an admin token may change the organisation's AI config")
    async with db.write() as session:
        known = {m.id for m in request.app.state.registry.models()}
        await org_config.update(
            session, principal=principal, changes=body.model_dump(exclude_unset=True), known_models=known
        )
    return Response(status_code=200)
