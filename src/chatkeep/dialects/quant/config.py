"""The organisation's AI config (the legacy Quant `/ai/config`), plus chatkeep's guard policy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from chatkeep.core import org_config
from chatkeep.core.errors import Forbidden
from chatkeep.dialects.quant.deps import DB, OrgPrincipal
from chatkeep.dialects.quant.schemas import WireModel

router = APIRouter(tags=["AI Services"])


class ConfigUpdate(WireModel):
    enabled_models: list[str] | None = None
    default_model: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    system_prompt: str | None = None
    guard_policy: dict[str, Any] | None = None


@router.get("/config", operation_id="getAIConfig")
async def get_config(principal: OrgPrincipal, db: DB) -> dict[str, Any]:
    """The organisation's AI configuration."""
    async with db.read() as session:
        config = await org_config.get(session, principal=principal)
    return config.model_dump()


@router.put("/config", operation_id="updateAIConfig", status_code=200)
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
