"""An organisation's AI configuration: allowed and default models, generation defaults, guards, limits."""

from __future__ import annotations

from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.errors import InvalidInput
from chatkeep.core.principals import Principal
from chatkeep.guards import GuardPolicy
from chatkeep.storage.models import Organisation
from chatkeep.storage.prepared import Prepared, Statements, on


class AIConfig(BaseModel):
    """Stored as JSON on the organisation row. Empty `enabled_models` means every configured model."""

    model_config = ConfigDict(extra="ignore")

    enabled_models: list[str] = Field(default_factory=list)
    default_model: str | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=65536)
    temperature: float | None = Field(default=None, ge=0, le=2)
    system_prompt: str | None = Field(default=None, max_length=100_000)
    guard_policy: dict[str, Any] | None = None
    # Limits (see core.limits): None = the server default, -1 = no limit, otherwise the cap.
    requests_per_minute: int | None = Field(default=None, ge=-1)
    monthly_token_quota: int | None = Field(default=None, ge=-1)
    # Conversations untouched for this many days are deleted by the housekeeping (core.retention).
    retention_days: int | None = Field(default=None, ge=1, le=36_500)
    # Every user's token limits where staff set none of their own (see core.token_quotas); None: no limit.
    user_daily_token_limit: int | None = Field(default=None, ge=-1)
    user_weekly_token_limit: int | None = Field(default=None, ge=-1)
    user_monthly_token_limit: int | None = Field(default=None, ge=-1)

    def allows(self, model_id: str) -> bool:
        return not self.enabled_models or model_id in self.enabled_models


async def get(session: AsyncSession | Statements, *, principal: Principal) -> AIConfig:
    """The caller's organisation's AI config (defaults where nothing was set)."""
    row = await on(session).first(_CONFIG, {"org_id": principal.org_id})
    return of_stored(row[0] if row else None)


def of(org: Organisation | None) -> AIConfig:
    """The AI config stored on an organisation row (defaults where nothing was set)."""
    return of_stored(org.config if org else None)


def of_stored(config: dict[str, Any] | None) -> AIConfig:
    """The AI config from an organisation's stored `config` column (defaults where nothing was set)."""
    return AIConfig.model_validate(config or {})


async def update(
    session: AsyncSession, *, principal: Principal, changes: dict[str, Any], known_models: set[str]
) -> AIConfig:
    """Merge `changes` into the stored config and validate the result against the configured models."""
    org = await session.get(Organisation, principal.org_id, with_for_update=True)
    if org is None:  # the token outlived its organisation
        raise InvalidInput("organisation no longer exists")
    try:
        # A null resets a field to its default, as leaving it out of the stored config does.
        merged = AIConfig.model_validate(
            {k: v for k, v in {**(org.config or {}), **changes}.items() if v is not None}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from None
    if merged.guard_policy is not None:
        try:
            GuardPolicy.model_validate(merged.guard_policy)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in ("guard_policy", *first["loc"]))
            raise InvalidInput(f"{where}: {first['msg']}", field=where) from None
    unknown = sorted(
        {*merged.enabled_models, *([merged.default_model] if merged.default_model else [])} - known_models
    )
    if unknown:
        raise InvalidInput(f"unknown model ids: {', '.join(unknown)}", field="enabled_models")
    if merged.default_model and not merged.allows(merged.default_model):
        raise InvalidInput("default_model must be one of enabled_models", field="default_model")
    org.config = merged.model_dump(exclude_none=True)
    return merged


_ORGANISATIONS = cast(Table, Organisation.__table__)
_CONFIG = Prepared(select(_ORGANISATIONS.c.config).where(_ORGANISATIONS.c.id == bindparam("org_id")))
