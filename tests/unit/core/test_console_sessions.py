"""Console sessions: opened with a token, resolved by their secret's hash, ended by sign-out, expiry or
revoking the token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from chatkeep.core import api_tokens, console_sessions
from chatkeep.core.errors import Unauthenticated
from chatkeep.core.principals import Role
from chatkeep.storage.database import Database
from chatkeep.storage.models import ConsoleSession
from chatkeep.storage.types import utcnow
from tests.support import Tenant


async def test_a_session_acts_with_its_tokens_principal(db: Database, tenant: Tenant) -> None:
    async with db.write() as session:
        opened = await console_sessions.sign_in(session, token_secret=tenant.admin)
    async with db.read() as session:
        caller = await console_sessions.resolve(session, secret=opened.secret)
        stored = (
            await session.execute(select(ConsoleSession).where(ConsoleSession.id == opened.session.id))
        ).scalar_one()
    principal = caller.principal
    assert principal.role == Role.ADMIN and principal.user_id == "admin" and principal.org_name == tenant.name
    assert stored.secret_hash == api_tokens.hash_secret(opened.secret) != opened.secret


async def test_sign_out_expiry_and_revoked_tokens_end_a_session(db: Database, tenant: Tenant) -> None:
    async with db.write() as session:
        signed_out = await console_sessions.sign_in(session, token_secret=tenant.member)
        expired = await console_sessions.sign_in(session, token_secret=tenant.member)
        await console_sessions.sign_out(session, secret=signed_out.secret)
        await console_sessions.sign_out(session, secret=signed_out.secret)  # twice is harmless
        await session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id == expired.session.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    for secret in (signed_out.secret, expired.secret, "", "x" * 500, "unknown"):
        async with db.read() as session:
            with pytest.raises(Unauthenticated):
                await console_sessions.resolve(session, secret=secret)
    async with db.write() as session:
        live = await console_sessions.sign_in(session, token_secret=tenant.service)
        assert live.caller.principal.token_id is not None
        await api_tokens.revoke(session, token_id=live.caller.principal.token_id)
    async with db.read() as session:
        with pytest.raises(Unauthenticated, match="revoked"):
            await console_sessions.resolve(session, secret=live.secret)


async def test_unknown_tokens_open_no_session(db: Database) -> None:
    async with db.write() as session:
        with pytest.raises(Unauthenticated):
            await console_sessions.sign_in(session, token_secret="ck_nope")


def test_form_keys_belong_to_one_session() -> None:
    key = console_sessions.form_key("secret-a")
    assert console_sessions.form_key_matches("secret-a", key)
    assert not console_sessions.form_key_matches("secret-b", key)
    assert not console_sessions.form_key_matches("secret-a", None)
    assert not console_sessions.form_key_matches("secret-a", "")


async def test_ended_sessions_are_purged_and_live_ones_kept(db: Database, tenant: Tenant) -> None:
    async with db.write() as session:
        ended = await console_sessions.sign_in(session, token_secret=tenant.member)
        live = await console_sessions.sign_in(session, token_secret=tenant.member)
        await console_sessions.sign_out(session, secret=ended.secret)
    async with db.write() as session:
        assert await console_sessions.purge_ended(session) >= 1
    async with db.read() as session:
        ids = set((await session.execute(select(ConsoleSession.id))).scalars())
        await console_sessions.resolve(session, secret=live.secret)
    assert ended.session.id not in ids and live.session.id in ids
