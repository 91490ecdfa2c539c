"""API tokens as an organisation's admin manages them: issue, list and revoke, within their organisation."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core import tokens
from chatkeep.core.errors import Forbidden, InvalidInput, NotFound
from chatkeep.core.principals import Principal, Role
from chatkeep.storage.models import ApiToken, Organisation

MAX_NAME_LENGTH = 255


def _require_admin(principal: Principal) -> None:
    if principal.role != Role.ADMIN:
        raise Forbidden("only an admin token may manage API tokens")


async def get_all(session: AsyncSession, *, principal: Principal) -> list[ApiToken]:
    """The organisation's tokens, oldest first (revoked ones too, marked by `revoked_at`)."""
    _require_admin(principal)
    return [token for token, _ in await tokens.get_all(session, org_id=principal.org_id)]


async def create(
    session: AsyncSession, *, principal: Principal, user_id: str, role: str, name: str | None = None
) -> tokens.IssuedToken:
    """Issue a token for a user of the admin's organisation; its secret is in the result only."""
    _require_admin(principal)
    try:
        chosen = Role(role)
    except ValueError:
        raise InvalidInput(f"role must be one of {[r.value for r in Role]}", field="role") from None
    if name is not None and len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"name may be at most {MAX_NAME_LENGTH} characters", field="name")
    org = await session.get(Organisation, principal.org_id)
    if org is None:
        raise NotFound("organisation no longer exists")
    return await tokens.create(session, org=org, user_id=user_id.strip(), role=chosen, name=name or None)


async def revoke(session: AsyncSession, *, principal: Principal, token_id: uuid.UUID) -> ApiToken:
    """Revoke one of the organisation's tokens; another organisation's is not found."""
    _require_admin(principal)
    owned = await session.scalar(
        select(ApiToken.id).where(ApiToken.id == token_id, ApiToken.org_id == principal.org_id)
    )
    if owned is None:
        raise NotFound("no such token in this organisation", field="token")
    return await tokens.revoke(session, token_id=token_id)
