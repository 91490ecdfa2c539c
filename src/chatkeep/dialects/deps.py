"""FastAPI dependencies for every dialect: the database, the model registry, the turn engine, the limits,
and the authenticated caller (principal + the organisation's AI config, read with the token).

Authentication comes in one factory per scheme — `Authorization: Bearer <token>` (Quant, OpenAI) and
`Authorization: Token <key>` (Waldur, with DRF's wording) — each with an admin-only variant. Every
authenticated call counts against the organisation's request rate.

Every dependency here is `async`: FastAPI runs a plain `def` in a worker thread, one hop per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Path, Request

from chatkeep.core import api_tokens
from chatkeep.core import limits as core_limits
from chatkeep.core.callers import Caller
from chatkeep.core.errors import Forbidden, Unauthenticated
from chatkeep.core.principals import Role
from chatkeep.core.turns import TurnEngine
from chatkeep.providers.registry import ModelRegistry
from chatkeep.storage.database import Database


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_registry(request: Request) -> ModelRegistry:
    registry: ModelRegistry = request.app.state.registry
    return registry


async def get_engine(request: Request) -> TurnEngine:
    engine: TurnEngine = request.app.state.turns
    return engine


async def get_limits(request: Request) -> core_limits.Limits:
    limits: core_limits.Limits = request.app.state.limits
    return limits


DB = Annotated[Database, Depends(get_db)]
Registry = Annotated[ModelRegistry, Depends(get_registry)]
Engine = Annotated[TurnEngine, Depends(get_engine)]
Limits = Annotated[core_limits.Limits, Depends(get_limits)]

# ---- schemes: the secret from the Authorization header ---------------------------------------------------

# DRF TokenAuthentication's wording, which Waldur clients show to their users.
TOKEN_NOT_PROVIDED = "Authentication credentials were not provided."
TOKEN_INVALID = "Invalid token."


def bearer_secret(authorization: str | None) -> str:
    """The token from an `Authorization: Bearer …` header."""
    if not authorization:
        raise Unauthenticated("missing Authorization header; send 'Authorization: Bearer <token>'")
    scheme, _, secret = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <token>'")
    return secret.strip()


def token_secret(authorization: str | None) -> str:
    """The key from `Authorization: Token <key>`; any other scheme counts as no credentials, as in DRF."""
    parts = (authorization or "").split()
    if not parts or parts[0].lower() != "token":
        raise Unauthenticated(TOKEN_NOT_PROVIDED)
    if len(parts) == 1:
        raise Unauthenticated("Invalid token header. No credentials provided.")
    if len(parts) > 2:
        raise Unauthenticated("Invalid token header. Token string should not contain spaces.")
    return parts[1]


# ---- the caller ------------------------------------------------------------------------------------------


async def _authenticate(
    request: Request, db: Database, secret: str, *, invalid: str | None = None, admin: bool = False
) -> Caller:
    """Resolve the secret, require the admin role if asked, and count the call against the rate limit.

    `invalid` replaces the message for unknown and revoked tokens alike, so neither can be told apart.
    """
    async with db.direct_read() as statements:
        try:
            caller = await api_tokens.authenticate(statements, secret=secret)
        except Unauthenticated:
            if invalid is None:
                raise
            raise Unauthenticated(invalid) from None
    if admin and caller.principal.role != Role.ADMIN:
        raise Forbidden("only an admin token may do this")
    limits = await get_limits(request)
    await limits.check_request(principal=caller.principal, config=caller.config)
    return caller


def bearer_caller(*, org_in_path: bool, admin: bool = False) -> Callable[..., Awaitable[Caller]]:
    """The caller of a Bearer-token route. With `org_in_path`, the caller must belong to the organisation
    the path names: a token of another organisation gets 403 whether or not the named one exists."""
    if org_in_path:

        async def in_organisation(
            organisation: Annotated[str, Path(description="The organisation's machine name")],
            request: Request,
            db: DB,
            authorization: Annotated[str | None, Header()] = None,
        ) -> Caller:
            caller = await _authenticate(request, db, bearer_secret(authorization), admin=admin)
            if caller.principal.org_name != organisation:
                raise Forbidden("access denied")
            return caller

        return in_organisation

    async def anywhere(
        request: Request, db: DB, authorization: Annotated[str | None, Header()] = None
    ) -> Caller:
        return await _authenticate(request, db, bearer_secret(authorization), admin=admin)

    return anywhere


def token_caller(*, admin: bool = False) -> Callable[..., Awaitable[Caller]]:
    """The caller of a `Token`-scheme route (Waldur)."""

    async def caller(
        request: Request, db: DB, authorization: Annotated[str | None, Header()] = None
    ) -> Caller:
        return await _authenticate(
            request, db, token_secret(authorization), invalid=TOKEN_INVALID, admin=admin
        )

    return caller


QuantCaller = Annotated[Caller, Depends(bearer_caller(org_in_path=True))]
WaldurCaller = Annotated[Caller, Depends(token_caller())]
OpenAICaller = Annotated[Caller, Depends(bearer_caller(org_in_path=False))]
