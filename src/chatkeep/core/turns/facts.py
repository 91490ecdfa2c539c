"""What a turn reads before it runs, in one statement: the staff's active prompt, the user's own token
limits and the conversation's settings.

Three small queries became one (organisations left-joined to each): every turn reads them, and each
statement costs a turn more in the database layer (about 0.2 ms of CPU) than the rows it returns.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.conversations import Settings
from chatkeep.core.principals import Principal
from chatkeep.core.token_quotas import OwnLimits
from chatkeep.storage.models import CONVERSATIONS, Organisation, SystemPrompt, TokenQuota

_ORGANISATIONS = cast(Table, Organisation.__table__)
_PROMPTS = cast(Table, SystemPrompt.__table__)
_QUOTAS = cast(Table, TokenQuota.__table__)


@dataclass(frozen=True, slots=True)
class TurnFacts:
    staff_prompt: str | None  # the active system prompt's instructions, if one says something
    own_limits: OwnLimits | None  # the user's own token limits, None when the defaults apply
    settings: Settings | None  # the conversation's, None when there is none or the caller cannot see it


async def read(
    session: AsyncSession, *, principal: Principal, user_id: str, conversation_id: uuid.UUID | None
) -> TurnFacts:
    prompt = (
        select(_PROMPTS.c.custom_instructions)
        .where(_PROMPTS.c.org_id == _ORGANISATIONS.c.id, _PROMPTS.c.is_active)
        .limit(1)
        .scalar_subquery()
    )
    columns = [
        prompt,
        _QUOTAS.c.user_id,
        _QUOTAS.c.daily_limit,
        _QUOTAS.c.weekly_limit,
        _QUOTAS.c.monthly_limit,
        CONVERSATIONS.c.id,
        CONVERSATIONS.c.default_model,
        CONVERSATIONS.c.system_prompt,
        CONVERSATIONS.c.max_tokens,
        CONVERSATIONS.c.temperature,
    ]
    visible = [CONVERSATIONS.c.id == conversation_id, CONVERSATIONS.c.org_id == _ORGANISATIONS.c.id]
    if not principal.sees_whole_org:
        visible.append(CONVERSATIONS.c.user_id == principal.user_id)
    joined = _ORGANISATIONS.outerjoin(
        _QUOTAS, and_(_QUOTAS.c.org_id == _ORGANISATIONS.c.id, _QUOTAS.c.user_id == user_id)
    ).outerjoin(CONVERSATIONS, and_(*visible))
    row = (
        await session.execute(
            select(*columns).select_from(joined).where(_ORGANISATIONS.c.id == principal.org_id)
        )
    ).first()
    if row is None:  # the organisation is gone: nothing applies (authentication refuses it next)
        return TurnFacts(staff_prompt=None, own_limits=None, settings=None)
    (text, quota_user, daily, weekly, monthly, found, model, system_prompt, max_tokens, temperature) = row
    return TurnFacts(
        staff_prompt=text or None,
        own_limits=None if quota_user is None else OwnLimits(daily, weekly, monthly),
        settings=None if found is None else Settings(model, system_prompt, max_tokens, temperature),
    )
