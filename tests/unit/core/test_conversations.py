"""The conversation tree: appends, siblings, visible history, expiry, purge and concurrent appends."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from chatkeep.core import conversations, housekeeping, organisations
from chatkeep.core.conversations import NewMessage
from chatkeep.core.errors import NotFound
from chatkeep.core.principals import Principal, Role
from chatkeep.storage.database import Database
from chatkeep.storage.models import Message


async def principal(db: Database, role: Role = Role.SERVICE, user: str = "svc") -> Principal:
    async with db.write() as session:
        org = await organisations.create(session, name=f"conv-{uuid.uuid4().hex[:10]}")
    return Principal(org_id=org.id, org_name=org.name, user_id=user, role=role)


async def test_siblings_keep_every_version_and_history_follows_the_active_leaf(db: Database) -> None:
    p = await principal(db)
    async with db.write() as session:
        conv = await conversations.create(session, principal=p, user_id="u")
        q1, a1 = await conversations.append_messages(
            session, conversation=conv, messages=[NewMessage("user", "Q1"), NewMessage("assistant", "A1")]
        )
        # A regeneration: a new sibling of A1 under Q1.
        (a1b,) = await conversations.append_messages(
            session, conversation=conv, messages=[NewMessage("assistant", "A1 again")], parent_id=q1.id
        )
        conv_id = conv.id
    async with db.read() as session:
        conv = await conversations.get(session, principal=p, conversation_id=conv_id)
        history = await conversations.visible_history(session, conversation=conv)
        total = await session.scalar(select(func.count()).where(Message.conversation_id == conv_id))
    assert [m.content for m in history] == ["Q1", "A1 again"]
    assert a1b.sequence_index == a1.sequence_index == 2
    assert total == 3  # the first answer is kept, just not visible
    assert conv.message_count == 2


async def test_expired_conversation_is_gone_and_purged(db: Database) -> None:
    p = await principal(db)
    async with db.write() as session:
        conv = await conversations.create(
            session,
            principal=p,
            user_id="u",
            expires_in=timedelta(seconds=-1),
            initial_messages=[NewMessage("user", "old")],
        )
        live = await conversations.create(session, principal=p, user_id="u", expires_in=timedelta(minutes=5))
    async with db.read() as session:
        with pytest.raises(NotFound, match="expired"):
            await conversations.get(session, principal=p, conversation_id=conv.id)
        listed = await conversations.get_all(session, principal=p)
    assert [c.id for c in listed] == [live.id]
    assert await housekeeping.purge_expired(db, batch_size=1) >= 1
    async with db.read() as session:
        left = await session.scalar(select(func.count()).where(Message.conversation_id == conv.id))
        with pytest.raises(NotFound, match="not found"):
            await conversations.get(session, principal=p, conversation_id=conv.id)
        assert (await conversations.get(session, principal=p, conversation_id=live.id)).id == live.id
    assert left == 0


async def test_concurrent_appends_lose_nothing_and_keep_sequence_unique(db: Database) -> None:
    p = await principal(db)
    async with db.write() as session:
        conv_id = (await conversations.create(session, principal=p, user_id="u")).id

    async def append(i: int) -> None:
        async with db.write() as session:
            conv = await conversations.get(session, principal=p, conversation_id=conv_id, for_update=True)
            await conversations.append_messages(
                session, conversation=conv, messages=[NewMessage("user", f"m{i}")]
            )

    await asyncio.gather(*(append(i) for i in range(60)))
    async with db.read() as session:
        conv = await conversations.get(session, principal=p, conversation_id=conv_id)
        history = await conversations.visible_history(session, conversation=conv)
    assert len(history) == 60 == conv.message_count
    assert [m.sequence_index for m in history] == list(range(1, 61))
    assert sorted(m.content for m in history) == sorted(f"m{i}" for i in range(60))


async def test_member_sees_only_own_conversations(db: Database) -> None:
    admin = await principal(db, Role.ADMIN, "admin")
    alice = Principal(org_id=admin.org_id, org_name=admin.org_name, user_id="alice", role=Role.MEMBER)
    async with db.write() as session:
        bobs = await conversations.create(session, principal=admin, user_id="bob")
        alices = await conversations.create(session, principal=alice)
    async with db.read() as session:
        assert [c.id for c in await conversations.get_all(session, principal=alice)] == [alices.id]
        with pytest.raises(NotFound):
            await conversations.get(session, principal=alice, conversation_id=bobs.id)
        assert len(await conversations.get_all(session, principal=admin)) == 2
