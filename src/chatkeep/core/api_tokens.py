"""API tokens: issue, list, revoke and resolve to a Principal. Secrets are stored only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core import org_config
from chatkeep.core.callers import Caller
from chatkeep.core.errors import InvalidInput, NotFound, Unauthenticated
from chatkeep.core.principals import Principal, Role
from chatkeep.observability import request_context
from chatkeep.storage.models import ApiToken, Organisation
from chatkeep.storage.prepared import Prepared, Statements, on
from chatkeep.storage.types import utcnow

TOKEN_PREFIX = "ck_"
_MAX_TOKEN_LENGTH = 200


def hash_secret(secret: str) -> str:
    """SHA-256 hex digest of a token. Tokens carry 256 random bits, so a fast hash is the right tool."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly created token. `secret` exists only here; the database keeps its digest."""

    token: ApiToken
    secret: str


async def create(
    session: AsyncSession,
    *,
    org: Organisation,
    user_id: str,
    role: Role = Role.MEMBER,
    name: str | None = None,
) -> IssuedToken:
    """Issue a new token for a user of an organisation."""
    if not user_id or len(user_id) > 255:
        raise InvalidInput("user id must be 1-255 characters", field="user")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        org_id=org.id,
        user_id=user_id,
        role=Role(role).value,
        name=name,
        prefix=secret[:10],
        secret_hash=hash_secret(secret),
    )
    session.add(token)
    await session.flush()
    return IssuedToken(token=token, secret=secret)


async def get_all(session: AsyncSession, *, org_id: uuid.UUID | None = None) -> list[tuple[ApiToken, str]]:
    """Tokens with their organisation's name, optionally of one organisation, oldest first."""
    query = select(ApiToken, Organisation.name).join(Organisation, Organisation.id == ApiToken.org_id)
    if org_id is not None:
        query = query.where(ApiToken.org_id == org_id)
    rows = await session.execute(query.order_by(ApiToken.created_at, ApiToken.id))
    return [(token, org_name) for token, org_name in rows.all()]


async def revoke(session: AsyncSession, *, token_id: uuid.UUID) -> ApiToken:
    """Revoke a token; it stops working at once. Revoking twice is harmless."""
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token with id {token_id}", field="token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


async def authenticate(session: AsyncSession | Statements, *, secret: str) -> Caller:
    """Resolve a presented secret to its caller; Unauthenticated for unknown or revoked tokens.

    The organisation's row comes with the token in one prepared statement: every request runs it.
    """
    if not secret or len(secret) > _MAX_TOKEN_LENGTH:
        raise Unauthenticated("invalid token")
    digest = hash_secret(secret)
    row = await on(session).first(_BY_DIGEST, {"digest": digest})
    # Timing safety comes from looking up by digest: callers choose secrets, not their SHA-256, so how long
    # the index comparison takes tells them nothing usable. compare_digest is a cheap re-check, not the guard.
    if row is None or not hmac.compare_digest(row[0], digest):
        raise Unauthenticated("invalid token")
    _, token_id, org_id, user_id, role, revoked_at, org_name, config = row
    if revoked_at is not None:
        raise Unauthenticated("token has been revoked")
    principal = Principal(
        org_id=org_id, org_name=org_name, user_id=user_id, role=Role(role), token_id=token_id
    )
    request_context.note_caller(org_name=org_name, token_id=token_id)
    return Caller(principal=principal, config=org_config.of_stored(config))


_TOKENS = cast(Table, ApiToken.__table__)
_ORGANISATIONS = cast(Table, Organisation.__table__)
_BY_DIGEST = Prepared(
    select(
        _TOKENS.c.secret_hash,
        _TOKENS.c.id,
        _TOKENS.c.org_id,
        _TOKENS.c.user_id,
        _TOKENS.c.role,
        _TOKENS.c.revoked_at,
        _ORGANISATIONS.c.name,
        _ORGANISATIONS.c.config,
    )
    .join(_ORGANISATIONS, _ORGANISATIONS.c.id == _TOKENS.c.org_id)
    .where(_TOKENS.c.secret_hash == bindparam("digest"))
)
