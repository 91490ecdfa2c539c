"""FastAPI dependencies for the Waldur dialect: the database and the `Authorization: Token …` principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from chatkeep.core import org_config, tokens
from chatkeep.core.errors import Unauthenticated
from chatkeep.core.limits import Limits
from chatkeep.core.principals import Principal
from chatkeep.dialects.caller_config import remember
from chatkeep.storage.database import Database

# DRF TokenAuthentication's wording, which Waldur clients show to their users.
NOT_PROVIDED = "Authentication credentials were not provided."
INVALID_TOKEN = "Invalid token."


async def get_db(request: Request) -> Database:
    # async, as every dependency here: FastAPI runs a plain `def` in a worker thread, one hop per request.
    db: Database = request.app.state.db
    return db


def token_secret(authorization: str | None) -> str:
    """The key from `Authorization: Token <key>`; any other scheme counts as no credentials, as in DRF."""
    parts = (authorization or "").split()
    if not parts or parts[0].lower() != "token":
        raise Unauthenticated(NOT_PROVIDED)
    if len(parts) == 1:
        raise Unauthenticated("Invalid token header. No credentials provided.")
    if len(parts) > 2:
        raise Unauthenticated("Invalid token header. Token string should not contain spaces.")
    return parts[1]


async def token_principal(
    request: Request,
    db: Annotated[Database, Depends(get_db)],
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    """The caller; every call counts against the organisation's request rate. Unknown and revoked tokens
    get the same answer, so neither can be told apart."""
    secret = token_secret(authorization)
    async with db.read() as session:
        try:
            principal, org = await tokens.authenticate_with_org(session, secret=secret)
        except Unauthenticated:
            raise Unauthenticated(INVALID_TOKEN) from None
    config = org_config.of(org)
    remember(request, config)
    limits: Limits = request.app.state.limits
    await limits.check_request(principal=principal, config=config)
    return principal


DB = Annotated[Database, Depends(get_db)]
Caller = Annotated[Principal, Depends(token_principal)]
