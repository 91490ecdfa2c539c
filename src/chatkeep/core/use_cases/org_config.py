"""AI config use cases: read the caller's organisation's config, and change it (admins only)."""

from __future__ import annotations

from typing import Any

from chatkeep.core import audit, org_config
from chatkeep.core.callers import Caller
from chatkeep.core.errors import Forbidden
from chatkeep.core.org_config import AIConfig
from chatkeep.core.principals import Role
from chatkeep.storage.database import Database


def get(caller: Caller) -> AIConfig:
    """The caller's organisation's AI config, as read with the caller's token."""
    return caller.config


async def update(
    db: Database, caller: Caller, *, changes: dict[str, Any], known_models: set[str]
) -> AIConfig:
    """Merge `changes` into the config and validate the result; only admin tokens may."""
    if caller.principal.role != Role.ADMIN:
        raise Forbidden("only an admin token may change the organisation's AI config")
    async with db.write() as session:
        updated = await org_config.update(
            session, principal=caller.principal, changes=changes, known_models=known_models
        )
        await audit.record(
            session, principal=caller.principal, **audit.config_change(caller.principal, changes)
        )
        return updated
