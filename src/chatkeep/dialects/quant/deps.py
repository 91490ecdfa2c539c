"""FastAPI dependencies for the Quant dialect: the database and the Bearer-token principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request

from chatkeep.core import org_config, tokens
from chatkeep.core.errors import Forbidden, Unauthenticated
from chatkeep.core.limits import Limits
from chatkeep.core.principals import Principal
from chatkeep.dialects.caller_config import remember
from chatkeep.storage.database import Database


async def get_db(request: Request) -> Database:
    # async, as every dependency here: FastAPI runs a plain `def` in a worker thread, one hop per request.
    db: Database = request.app.state.db
    return db


def bearer_secret(authorization: str | None) -> str:
    """The token from an `Authorization: Bearer …` header."""
    if not authorization:
        raise Unauthenticated("missing Authorization header; send 'Authorization: Bearer <token>'")
    scheme, _, secret = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <token>'")
    return secret.strip()


async def org_principal(
    organisation: Annotated[str, Path(description="The organisation's machine name")],
    request: Request,
    db: Annotated[Database, Depends(get_db)],
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    """The caller, who must belong to the organisation in the path; every call counts against the
    organisation's request rate.

    A token of another organisation gets 403 whether or not the named organisation exists.
    """
    secret = bearer_secret(authorization)
    async with db.read() as session:
        principal, org = await tokens.authenticate_with_org(session, secret=secret)
    if principal.org_name != organisation:
        raise Forbidden("access denied")
    config = org_config.of(org)
    remember(request, config)
    limits: Limits = request.app.state.limits
    await limits.check_request(principal=principal, config=config)
    return principal


DB = Annotated[Database, Depends(get_db)]
OrgPrincipal = Annotated[Principal, Depends(org_principal)]
