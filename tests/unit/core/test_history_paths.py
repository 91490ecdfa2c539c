"""Paths through the message tree, read by one recursive query: only the path (never other branches),
the newest part of it on request, and never past the conversation's depth even over corrupt links."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from chatkeep.core import conversations, organisations
from chatkeep.core.conversations import NewMessage
from chatkeep.core.principals import Principal, Role
from chatkeep.storage.database import Database
from chatkeep.storage.models import Message


async def conversation_with(db: Database, turns: int) -> tuple[Principal, uuid.UUID]:
    async with db.write() as session:
        org = await organisations.create(session, name=f"path-{uuid.uuid4().hex[:10]}")
        p = Principal(org_id=org.id, org_name=org.name, user_id="svc", role=Role.SERVICE)
        conv = await conversations.create(session, principal=p, user_id="u")
        chain = [NewMessage(role, f"{role}-{i}") for i in range(turns) for role in ("user", "assistant")]
        await conversations.append_messages(session, conversation=conv, messages=chain)
        return p, conv.id


async def test_the_newest_part_of_a_path_oldest_first(db: Database) -> None:
    p, conv_id = await conversation_with(db, 50)
    async with db.read() as session:
        conv = await conversations.get(session, principal=p, conversation_id=conv_id)
        assert conv.active_leaf_id is not None
        whole = await conversations.path_to(session, conversation=conv, leaf_id=conv.active_leaf_id)
        newest = await conversations.path_to(
            session, conversation=conv, leaf_id=conv.active_leaf_id, newest=3
        )
    assert [m.content for m in whole][:2] == ["user-0", "assistant-0"] and len(whole) == 100
    assert [m.sequence_index for m in whole] == list(range(1, 101))
    assert [m.content for m in newest] == ["assistant-48", "user-49", "assistant-49"]


async def test_other_branches_are_not_on_the_path(db: Database) -> None:
    p, conv_id = await conversation_with(db, 2)
    async with db.write() as session:
        conv = await conversations.get(session, principal=p, conversation_id=conv_id, for_update=True)
        history = await conversations.visible_history(session, conversation=conv)
        # Regenerate the last answer twice: two more siblings under the last user message.
        for text in ("again", "and again"):
            await conversations.append_messages(
                session, conversation=conv, messages=[NewMessage("assistant", text)], parent_id=history[-2].id
            )
        visible = await conversations.visible_history(session, conversation=conv)
    assert [m.content for m in visible] == ["user-0", "assistant-0", "user-1", "and again"]


async def test_a_corrupt_cycle_ends_at_the_conversation_depth(db: Database) -> None:
    p, conv_id = await conversation_with(db, 2)
    async with db.write() as session:
        conv = await conversations.get(session, principal=p, conversation_id=conv_id, for_update=True)
        history = await conversations.visible_history(session, conversation=conv)
        root, leaf = history[0], history[-1]
        await session.execute(update(Message).where(Message.id == root.id).values(parent_id=leaf.id))
        assert conv.active_leaf_id is not None
        looped = await conversations.path_to(session, conversation=conv, leaf_id=conv.active_leaf_id)
    assert len(looped) <= conv.message_count + 1  # bounded, where an unbounded walk would never end
