"""Building blocks for the Waldur dialect tests: auth headers, principals and seeded conversations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chatkeep.core import api_tokens, conversations
from chatkeep.core.conversations import NewMessage
from chatkeep.core.principals import Principal
from chatkeep.storage.database import Database
from chatkeep.storage.models import Conversation, Message


def token(secret: str) -> dict[str, str]:
    return {"Authorization": f"Token {secret}"}


def hyphenated(hex_uuid: str) -> str:
    return str(uuid.UUID(hex_uuid))


async def principal_of(db: Database, secret: str) -> Principal:
    async with db.read() as session:
        return (await api_tokens.authenticate(session, secret=secret)).principal


async def make_thread(
    db: Database,
    secret: str,
    *,
    title: str | None = None,
    texts: tuple[str, ...] = ("hello", "hi there"),
    expires_in: timedelta | None = None,
) -> str:
    """A conversation owned by the token's user with alternating user/assistant messages; its hex id."""
    owner = await principal_of(db, secret)
    roles = ("user", "assistant")
    async with db.write() as session:
        conversation = await conversations.create(
            session,
            principal=owner,
            title=title,
            expires_in=expires_in,
            initial_messages=[NewMessage(roles[i % 2], text) for i, text in enumerate(texts)],
        )
        return conversation.id.hex


@dataclass
class Versioned:
    """A thread whose first answer was regenerated and whose second question was edited.

    Tree: Q1 ─┬─ A1              (superseded)
              └─ A1b ─┬─ Q2 ── A2 (superseded)
                      └─ Q2b ── A2b   ← active leaf
    """

    thread: str
    ids: dict[str, str]  # label → hex id

    @property
    def active(self) -> list[str]:
        return [self.ids[k] for k in ("Q1", "A1b", "Q2b", "A2b")]

    @property
    def superseded(self) -> list[str]:
        return [self.ids[k] for k in ("A1", "Q2", "A2")]


async def make_versioned_thread(db: Database, secret: str, *, title: str = "Versions") -> Versioned:
    owner = await principal_of(db, secret)
    async with db.write() as session:
        conv = await conversations.create(session, principal=owner, title=title)

        async def add(parent: Message | None, *messages: NewMessage) -> list[Message]:
            return await conversations.append_messages(
                session, conversation=conv, messages=messages, parent_id=parent.id if parent else None
            )

        q1, a1 = await add(None, NewMessage("user", "Q1"), NewMessage("assistant", "A1"))
        (a1b,) = await add(q1, NewMessage("assistant", "A1b", model="m-1", input_tokens=5, output_tokens=7))
        q2, a2 = await add(a1b, NewMessage("user", "Q2"), NewMessage("assistant", "A2"))
        q2b, a2b = await add(a1b, NewMessage("user", "Q2b"), NewMessage("assistant", "A2b", model="m-2"))
        labels = {"Q1": q1, "A1": a1, "A1b": a1b, "Q2": q2, "A2": a2, "Q2b": q2b, "A2b": a2b}
        return Versioned(conv.id.hex, {k: m.id.hex for k, m in labels.items()})


async def update_thread(db: Database, thread_hex: str, **values: Any) -> None:
    async with db.write() as session:
        conversation = await session.get(Conversation, uuid.UUID(thread_hex))
        assert conversation is not None
        for key, value in values.items():
            setattr(conversation, key, value)


async def update_message(db: Database, message_hex: str, **values: Any) -> None:
    async with db.write() as session:
        message = await session.get(Message, uuid.UUID(message_hex))
        assert message is not None
        for key, value in values.items():
            setattr(message, key, value)


def at(day: str, hour: int = 12) -> datetime:
    """An aware UTC timestamp on a calendar day."""
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")
