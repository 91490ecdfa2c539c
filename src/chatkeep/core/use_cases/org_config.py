"""AI config use cases: read the caller's organisation's config, and change it (admins only)."""

from __future__ import annotations

from typing import Any

from chatkeep.core import audit, org_config
from chatkeep.core.callers import Caller
from chatkeep.core.errors import Forbidden
from chatkeep.core.org_config import AIConfig
from chatkeep.core.principals import Role
from chatkeep.storage.database import Database

# What only admins may read: the guards treat extracting the system prompt as an attack, and the guard
# policy tells an attacker what to evade. Everyone else sees what they need to call (models, limits).
ADMIN_ONLY = frozenset({"system_prompt", "guard_policy"})


def get(caller: Caller) -> AIConfig:
    """The caller's organisation's AI config, whole (for admin views; callers of any role: `visible`)."""
    return caller.config


def visible(caller: Caller) -> dict[str, Any]:
    """The caller's organisation's AI config as the caller may see it: all of it for admin tokens,
    everything but `ADMIN_ONLY` for the others."""
    hidden: set[str] = set() if caller.principal.role == Role.ADMIN else set(ADMIN_ONLY)
    return caller.config.model_dump(exclude=hidden)


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
