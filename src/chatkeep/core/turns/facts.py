"""What a turn reads before it runs, in one statement: the staff's active prompt, the user's own token
limits and the conversation's settings.

Three small queries became one (organisations left-joined to each), prepared once per visibility: every
turn reads them, and each statement cost a turn more in the database layer than the rows it returns.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import String, Table, Uuid, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.conversations import Settings
from chatkeep.core.principals import Principal
from chatkeep.core.token_quotas import OwnLimits
from chatkeep.storage.models import CONVERSATIONS, Organisation, SystemPrompt, TokenQuota
from chatkeep.storage.prepared import Prepared, Statements, on

_ORGANISATIONS = cast(Table, Organisation.__table__)
_PROMPTS = cast(Table, SystemPrompt.__table__)
_QUOTAS = cast(Table, TokenQuota.__table__)


@dataclass(frozen=True, slots=True)
class TurnFacts:
    staff_prompt: str | None  # the active system prompt's instructions, if one says something
    own_limits: OwnLimits | None  # the user's own token limits, None when the defaults apply
    settings: Settings | None  # the conversation's, None when there is none or the caller cannot see it


async def read(
    session: AsyncSession | Statements,
    *,
    principal: Principal,
    user_id: str,
    conversation_id: uuid.UUID | None,
) -> TurnFacts:
    statement = _READ_ANY if principal.sees_whole_org else _READ_OWN
    params = {
        "org_id": principal.org_id,
        "user_id": user_id,
        "conversation_id": conversation_id,
        "owner": principal.user_id,
    }
    row = await on(session).first(statement, params)
    if row is None:  # the organisation is gone: nothing applies (authentication refuses it next)
        return TurnFacts(staff_prompt=None, own_limits=None, settings=None)
    (text, quota_user, daily, weekly, monthly, found, model, system_prompt, max_tokens, temperature) = row
    return TurnFacts(
        staff_prompt=text or None,
        own_limits=None if quota_user is None else OwnLimits(daily, weekly, monthly),
        settings=None if found is None else Settings(model, system_prompt, max_tokens, temperature),
    )


def _statement(*, whole_org: bool) -> Prepared:
    """Built once for each visibility: a caller who sees the whole organisation, or only their own."""
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
    visible = [
        CONVERSATIONS.c.id == bindparam("conversation_id", type_=Uuid),
        CONVERSATIONS.c.org_id == _ORGANISATIONS.c.id,
    ]
    if not whole_org:
        visible.append(CONVERSATIONS.c.user_id == bindparam("owner", type_=String))
    joined = _ORGANISATIONS.outerjoin(
        _QUOTAS, and_(_QUOTAS.c.org_id == _ORGANISATIONS.c.id, _QUOTAS.c.user_id == bindparam("user_id"))
    ).outerjoin(CONVERSATIONS, and_(*visible))
    return Prepared(select(*columns).select_from(joined).where(_ORGANISATIONS.c.id == bindparam("org_id")))


_READ_ANY = _statement(whole_org=True)
_READ_OWN = _statement(whole_org=False)
