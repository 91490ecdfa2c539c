"""The assistant's instructions an organisation's staff keep: several stored, at most one active.

The active prompt's instructions are trusted like the organisation's own configured system prompt: every
turn of the organisation gets them after that prompt.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.errors import Forbidden, NotFound
from chatkeep.core.principals import Principal, Role
from chatkeep.storage.models import Organisation, SystemPrompt
from chatkeep.storage.types import utcnow

EDITABLE = ("name", "description", "custom_instructions")


def require_staff(principal: Principal) -> None:
    """Only staff (admin and service tokens) may read the organisation's prompts."""
    if not principal.sees_whole_org:
        raise Forbidden("only staff may manage system prompts")


def require_admin(principal: Principal) -> None:
    """Only admin tokens may change prompts: the active one is trusted like the organisation's configured
    system prompt (which only admins may set), so it reaches every turn unscreened."""
    require_staff(principal)
    if principal.role != Role.ADMIN:
        raise Forbidden("only an admin token may change system prompts")


async def get_all(
    session: AsyncSession, *, principal: Principal, limit: int, offset: int
) -> tuple[list[SystemPrompt], int]:
    """The organisation's prompts, newest first, and how many there are."""
    require_staff(principal)
    where = SystemPrompt.org_id == principal.org_id
    total = await session.scalar(select(func.count()).select_from(SystemPrompt).where(where))
    rows = await session.scalars(
        select(SystemPrompt)
        .where(where)
        .order_by(SystemPrompt.created_at.desc(), SystemPrompt.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)


async def get(
    session: AsyncSession, *, principal: Principal, prompt_id: uuid.UUID, for_update: bool = False
) -> SystemPrompt:
    """One of the organisation's prompts."""
    require_staff(principal)
    query = select(SystemPrompt).where(SystemPrompt.id == prompt_id, SystemPrompt.org_id == principal.org_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound("system prompt not found", field="system_prompt")
    return row


async def create(session: AsyncSession, *, principal: Principal, values: dict[str, Any]) -> SystemPrompt:
    """Store a new, inactive prompt."""
    require_admin(principal)
    now = utcnow()
    row = SystemPrompt(
        org_id=principal.org_id,
        name=values["name"],
        description=values.get("description") or "",
        custom_instructions=values.get("custom_instructions") or "",
        is_active=False,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


def change(row: SystemPrompt, values: dict[str, Any]) -> SystemPrompt:
    """Apply the given editable fields (an absent field stays as it was)."""
    for key in EDITABLE:
        if key in values and values[key] is not None:
            setattr(row, key, values[key])
    row.updated_at = utcnow()
    return row


async def set_active(session: AsyncSession, *, row: SystemPrompt, active: bool) -> SystemPrompt:
    """Activate a prompt (deactivating the organisation's others) or deactivate it."""
    now = utcnow()
    if active:
        # Lock the organisation's row: two replicas activating different prompts at once queue here.
        await session.get(Organisation, row.org_id, with_for_update=True)
        await session.execute(
            update(SystemPrompt)
            .where(SystemPrompt.org_id == row.org_id, SystemPrompt.id != row.id, SystemPrompt.is_active)
            .values(is_active=False, updated_at=now)
        )
    row.is_active = active
    row.updated_at = now
    return row
