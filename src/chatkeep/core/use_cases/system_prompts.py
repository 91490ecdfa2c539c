"""System prompt use cases for staff: list, read, create, change, delete, activate and deactivate."""

from __future__ import annotations

import uuid
from typing import Any

from chatkeep.core import system_prompts
from chatkeep.core.callers import Caller
from chatkeep.storage.database import Database
from chatkeep.storage.models import SystemPrompt


async def get_all(db: Database, caller: Caller, *, limit: int, offset: int) -> tuple[list[SystemPrompt], int]:
    """The organisation's prompts, newest first, and how many there are."""
    async with db.read() as session:
        return await system_prompts.get_all(session, principal=caller.principal, limit=limit, offset=offset)


async def get(db: Database, caller: Caller, prompt_id: uuid.UUID) -> SystemPrompt:
    async with db.read() as session:
        return await system_prompts.get(session, principal=caller.principal, prompt_id=prompt_id)


async def create(db: Database, caller: Caller, values: dict[str, Any]) -> SystemPrompt:
    """Store a new prompt; it is inactive until activated."""
    async with db.write() as session:
        return await system_prompts.create(session, principal=caller.principal, values=values)


async def update(db: Database, caller: Caller, prompt_id: uuid.UUID, values: dict[str, Any]) -> SystemPrompt:
    """Change a prompt's name, description or instructions (an active prompt's apply from the next turn)."""
    system_prompts.require_admin(caller.principal)
    async with db.write() as session:
        row = await system_prompts.get(
            session, principal=caller.principal, prompt_id=prompt_id, for_update=True
        )
        return system_prompts.change(row, values)


async def delete(db: Database, caller: Caller, prompt_id: uuid.UUID) -> None:
    system_prompts.require_admin(caller.principal)
    async with db.write() as session:
        row = await system_prompts.get(
            session, principal=caller.principal, prompt_id=prompt_id, for_update=True
        )
        await session.delete(row)


async def set_active(db: Database, caller: Caller, prompt_id: uuid.UUID, *, active: bool) -> SystemPrompt:
    """Make a prompt the one turns use (any other is deactivated), or stop using it."""
    system_prompts.require_admin(caller.principal)
    # One organisation-wide lock: two staff activating different prompts at once must not leave two active.
    async with db.write(serialize=caller.principal.org_id) as session:
        row = await system_prompts.get(
            session, principal=caller.principal, prompt_id=prompt_id, for_update=True
        )
        return await system_prompts.set_active(session, row=row, active=active)
