"""Choosing which version of a turn a conversation shows."""

from __future__ import annotations

import uuid

import pytest

from chatkeep.core import active_version, conversations, organisations
from chatkeep.core.conversations import NewMessage
from chatkeep.core.errors import Forbidden, NotFound
from chatkeep.core.principals import Principal, Role
from chatkeep.storage.database import Database


async def owner(db: Database) -> Principal:
    async with db.write() as session:
        org = await organisations.create(session, name=f"ver-{uuid.uuid4().hex[:10]}")
    return Principal(org_id=org.id, org_name=org.name, user_id="owner", role=Role.MEMBER)


async def test_showing_an_older_version_follows_its_branch_to_the_newest_leaf(db: Database) -> None:
    p = await owner(db)
    async with db.write() as session:
        conv = await conversations.create(session, principal=p)
        q1, a1, _q2, a2 = await conversations.append_messages(
            session,
            conversation=conv,
            messages=[
                NewMessage("user", "Q1"),
                NewMessage("assistant", "A1"),
                NewMessage("user", "Q2"),
                NewMessage("assistant", "A2"),
            ],
        )
        (a1_again,) = await conversations.append_messages(
            session, conversation=conv, messages=[NewMessage("assistant", "A1 again")], parent_id=q1.id
        )
        conv_id = conv.id
    async with db.write() as session:
        shown = await active_version.show(session, principal=p, conversation_id=conv_id, message_id=a1.id)
        assert shown.active_leaf_id == a2.id  # A1's branch goes on to Q2 and A2
        assert shown.message_count == 4
    async with db.read() as session:
        conv = await conversations.get(session, principal=p, conversation_id=conv_id)
        history = await conversations.visible_history(session, conversation=conv)
        assert [m.content for m in history] == ["Q1", "A1", "Q2", "A2"]
    async with db.write() as session:
        shown = await active_version.show(
            session, principal=p, conversation_id=conv_id, message_id=a1_again.id
        )
        assert shown.active_leaf_id == a1_again.id and shown.message_count == 2
    # A turn appended now continues from the shown version.
    async with db.write() as session:
        conv = await conversations.get(session, principal=p, conversation_id=conv_id, for_update=True)
        (q3,) = await conversations.append_messages(
            session, conversation=conv, messages=[NewMessage("user", "Q3")]
        )
        assert q3.parent_id == a1_again.id and q3.sequence_index == 3


async def test_only_the_owner_may_choose_and_only_messages_of_the_conversation(db: Database) -> None:
    p = await owner(db)
    admin = Principal(org_id=p.org_id, org_name=p.org_name, user_id="admin", role=Role.ADMIN)
    async with db.write() as session:
        conv = await conversations.create(session, principal=p)
        (q1,) = await conversations.append_messages(
            session, conversation=conv, messages=[NewMessage("user", "Q")]
        )
        other = await conversations.create(session, principal=p)
        (foreign,) = await conversations.append_messages(
            session, conversation=other, messages=[NewMessage("user", "X")]
        )
        conv_id = conv.id
    async with db.write() as session:
        with pytest.raises(Forbidden):
            await active_version.show(session, principal=admin, conversation_id=conv_id, message_id=q1.id)
    async with db.write() as session:
        with pytest.raises(NotFound):
            await active_version.show(session, principal=p, conversation_id=conv_id, message_id=foreign.id)
