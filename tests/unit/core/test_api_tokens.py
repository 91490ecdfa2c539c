"""Tokens are stored hashed, resolve to their principal, and stop working when revoked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from chatkeep.core import api_tokens, organisations
from chatkeep.core.errors import Conflict, InvalidInput, Unauthenticated
from chatkeep.core.principals import Role
from chatkeep.storage.database import Database
from chatkeep.storage.models import ApiToken


async def test_secret_is_stored_only_as_digest_and_authenticates(db: Database) -> None:
    async with db.write() as session:
        org = await organisations.create(session, name="tok-digest-org")
        issued = await api_tokens.create(session, org=org, user_id="alice", role=Role.MEMBER)
    async with db.read() as session:
        row = (await session.execute(select(ApiToken).where(ApiToken.id == issued.token.id))).scalar_one()
        principal = (await api_tokens.authenticate(session, secret=issued.secret)).principal
    assert issued.secret not in (row.secret_hash, row.prefix)
    assert row.secret_hash == api_tokens.hash_secret(issued.secret)
    assert (principal.org_name, principal.user_id, principal.role) == ("tok-digest-org", "alice", Role.MEMBER)


async def test_revoked_and_unknown_tokens_are_rejected(db: Database) -> None:
    async with db.write() as session:
        org = await organisations.create(session, name="tok-revoke-org")
        issued = await api_tokens.create(session, org=org, user_id="bob", role=Role.SERVICE)
    async with db.write() as session:
        await api_tokens.revoke(session, token_id=issued.token.id)
    async with db.read() as session:
        with pytest.raises(Unauthenticated, match="revoked"):
            await api_tokens.authenticate(session, secret=issued.secret)
        with pytest.raises(Unauthenticated):
            await api_tokens.authenticate(session, secret=issued.secret + "x")


async def test_organisation_names_are_unique_and_url_safe(db: Database) -> None:
    async with db.write() as session:
        await organisations.create(session, name="tok-unique-org")
    with pytest.raises(Conflict):
        async with db.write() as session:
            await organisations.create(session, name="tok-unique-org")
    for bad in ("", "Upper", "has space", "a/b", "x" * 101):
        with pytest.raises(InvalidInput):
            organisations.validate_name(bad)
