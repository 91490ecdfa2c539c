"""Chat sessions in the core: derived names, race-safe get-or-create, visibility and the creation hook."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from chatkeep.core import chat_sessions, conversations, organisations
from chatkeep.core.errors import NotFound
from chatkeep.core.principals import Principal, Role
from chatkeep.storage.database import Database
from chatkeep.storage.models import ChatSession


async def principal(db: Database, role: Role = Role.MEMBER, user: str = "alice") -> Principal:
    async with db.write() as session:
        org = await organisations.create(session, name=f"cs-{uuid.uuid4().hex[:10]}")
    return Principal(org_id=org.id, org_name=org.name, user_id=user, role=role)


async def rows_for(db: Database, p: Principal) -> int:
    async with db.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(ChatSession).where(ChatSession.org_id == p.org_id)
        )
    return int(count or 0)


def test_names_are_derived_from_organisation_and_user() -> None:
    org = uuid.uuid4()
    assert chat_sessions.session_id(org, "alice") == chat_sessions.session_id(org, "alice")
    assert chat_sessions.session_id(org, "alice") != chat_sessions.session_id(org, "bob")
    assert chat_sessions.session_id(org, "alice") != chat_sessions.session_id(uuid.uuid4(), "alice")
    assert chat_sessions.user_uuid(org, "alice") != chat_sessions.session_id(org, "alice")


async def test_concurrent_get_or_create_in_separate_transactions_yields_one_row(db: Database) -> None:
    p = await principal(db)

    async def attempt() -> uuid.UUID:
        async with db.write() as session:
            return (await chat_sessions.get_or_create(session, principal=p)).id

    ids = await asyncio.gather(*(attempt() for _ in range(10)))
    assert set(ids) == {chat_sessions.session_id(p.org_id, p.user_id)}
    assert await rows_for(db, p) == 1


async def test_creating_a_conversation_creates_its_owners_session_once(db: Database) -> None:
    service = await principal(db, Role.SERVICE, user="svc")
    async with db.write() as session:
        for _ in range(3):
            await conversations.create(session, principal=service, user_id="carol")
    async with db.read() as session:
        found = await chat_sessions.get(
            session, principal=service, chat_session_id=chat_sessions.session_id(service.org_id, "carol")
        )
    assert found.user_id == "carol"
    assert found.user_uuid == chat_sessions.user_uuid(service.org_id, "carol")
    assert await rows_for(db, service) == 1


async def test_members_see_only_their_own_session(db: Database) -> None:
    alice = await principal(db)
    bob = Principal(org_id=alice.org_id, org_name=alice.org_name, user_id="bob", role=Role.MEMBER)
    admin = Principal(org_id=alice.org_id, org_name=alice.org_name, user_id="root", role=Role.ADMIN)
    async with db.write() as session:
        mine = await chat_sessions.get_or_create(session, principal=alice)
        await chat_sessions.get_or_create(session, principal=bob)
    async with db.read() as session:
        with pytest.raises(NotFound):
            await chat_sessions.get(session, principal=bob, chat_session_id=mine.id)
        assert (await chat_sessions.get(session, principal=admin, chat_session_id=mine.id)).id == mine.id
        rows, total = await chat_sessions.get_all(session, principal=bob, limit=10, offset=0)
        assert [r.user_id for r in rows] == ["bob"] and total == 1
        rows, total = await chat_sessions.get_all(session, principal=admin, limit=1, offset=1)
        assert len(rows) == 1 and total == 2
