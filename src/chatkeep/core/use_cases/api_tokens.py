"""API token use cases for an organisation's admins: list, issue and revoke, within their organisation."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from chatkeep.core import api_tokens, audit
from chatkeep.core.api_tokens import IssuedToken
from chatkeep.core.callers import Caller
from chatkeep.core.errors import Forbidden, InvalidInput, NotFound
from chatkeep.core.principals import Role
from chatkeep.storage.database import Database
from chatkeep.storage.models import ApiToken, Organisation

MAX_NAME_LENGTH = 255


def _require_admin(caller: Caller) -> None:
    if caller.principal.role != Role.ADMIN:
        raise Forbidden("only an admin token may manage API tokens")


async def get_all(db: Database, caller: Caller) -> list[ApiToken]:
    """The organisation's tokens, oldest first (revoked ones too, marked by `revoked_at`)."""
    _require_admin(caller)
    async with db.read() as session:
        return [token for token, _ in await api_tokens.get_all(session, org_id=caller.principal.org_id)]


async def create(
    db: Database, caller: Caller, *, user_id: str, role: str, name: str | None = None
) -> IssuedToken:
    """Issue a token for a user of the admin's organisation; its secret is in the result only."""
    _require_admin(caller)
    try:
        chosen = Role(role)
    except ValueError:
        raise InvalidInput(f"role must be one of {[r.value for r in Role]}", field="role") from None
    if name is not None and len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"name may be at most {MAX_NAME_LENGTH} characters", field="name")
    async with db.write() as session:
        org = await session.get(Organisation, caller.principal.org_id)
        if org is None:
            raise NotFound("organisation no longer exists", field="organisation")
        issued = await api_tokens.create(
            session, org=org, user_id=user_id.strip(), role=chosen, name=name or None
        )
        await audit.record(session, principal=caller.principal, **audit.token_created(issued.token))
        return issued


async def revoke(db: Database, caller: Caller, token_id: uuid.UUID) -> ApiToken:
    """Revoke one of the organisation's tokens; another organisation's is not found."""
    _require_admin(caller)
    async with db.write() as session:
        owned = await session.scalar(
            select(ApiToken.id).where(ApiToken.id == token_id, ApiToken.org_id == caller.principal.org_id)
        )
        if owned is None:
            raise NotFound("no such token in this organisation", field="token")
        token = await api_tokens.revoke(session, token_id=token_id)
        await audit.record(
            session, principal=caller.principal, action="token.revoke", subject=f"token:{token.id}"
        )
        return token
