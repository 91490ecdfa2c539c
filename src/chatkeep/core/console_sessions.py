"""Web console sessions: an API token exchanged for a revocable session that acts with the token's role.

The session secret lives only in the browser's cookie; the database keeps its SHA-256 (like API tokens).
A session stops working when it is signed out, when it expires, or when its token is revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core import api_tokens, org_config
from chatkeep.core.callers import Caller
from chatkeep.core.errors import Unauthenticated
from chatkeep.core.principals import Principal, Role
from chatkeep.storage.models import ApiToken, ConsoleSession, Organisation
from chatkeep.storage.types import utcnow

LIFETIME = timedelta(hours=12)
_MAX_SECRET_LENGTH = 200


@dataclass(frozen=True, slots=True)
class OpenedSession:
    """A new console session. `secret` exists only here (and in the cookie)."""

    session: ConsoleSession
    secret: str
    caller: Caller


def form_key(secret: str) -> str:
    """The anti-forgery key of a session: pages embed it in forms, and state changes must send it back.

    Derived from the session secret, so nothing more is stored, and a page of another site (which cannot
    read the cookie) cannot compute it.
    """
    return hashlib.sha256(b"chatkeep-console-form:" + secret.encode("utf-8")).hexdigest()


def form_key_matches(secret: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(form_key(secret), presented)


async def sign_in(session: AsyncSession, *, token_secret: str) -> OpenedSession:
    """Open a console session for a valid API token; Unauthenticated for an unknown or revoked one."""
    caller = await api_tokens.authenticate(session, secret=token_secret.strip())
    assert caller.principal.token_id is not None
    secret = secrets.token_urlsafe(32)
    row = ConsoleSession(
        secret_hash=api_tokens.hash_secret(secret),
        token_id=caller.principal.token_id,
        created_at=utcnow(),
        expires_at=utcnow() + LIFETIME,
    )
    session.add(row)
    await session.flush()
    return OpenedSession(session=row, secret=secret, caller=caller)


async def resolve(session: AsyncSession, *, secret: str) -> Caller:
    """The caller behind a console session (with the organisation's config, read by the same query);
    Unauthenticated when it is unknown, signed out, expired, or its token was revoked."""
    if not secret or len(secret) > _MAX_SECRET_LENGTH:
        raise Unauthenticated("not signed in")
    row = (
        await session.execute(
            select(ConsoleSession, ApiToken, Organisation)
            .join(ApiToken, ApiToken.id == ConsoleSession.token_id)
            .join(Organisation, Organisation.id == ApiToken.org_id)
            .where(ConsoleSession.secret_hash == api_tokens.hash_secret(secret))
        )
    ).first()
    if row is None:
        raise Unauthenticated("not signed in")
    console, token, org = row
    if console.revoked_at is not None or console.expires_at <= utcnow():
        raise Unauthenticated("the session has ended; sign in again")
    if token.revoked_at is not None:
        raise Unauthenticated("the token of this session has been revoked")
    principal = Principal(
        org_id=token.org_id,
        org_name=org.name,
        user_id=token.user_id,
        role=Role(token.role),
        token_id=token.id,
    )
    return Caller(principal=principal, config=org_config.of(org))


async def sign_out(session: AsyncSession, *, secret: str) -> None:
    """End a console session at once; signing out twice, or with an unknown secret, is harmless."""
    row = (
        await session.execute(
            select(ConsoleSession).where(ConsoleSession.secret_hash == api_tokens.hash_secret(secret))
        )
    ).scalar_one_or_none()
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()


async def purge_ended(session: AsyncSession) -> int:
    """Delete signed-out and expired sessions (they can never be used again); returns how many."""
    result = await session.execute(
        delete(ConsoleSession).where(
            or_(ConsoleSession.revoked_at.is_not(None), ConsoleSession.expires_at <= utcnow())
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
