"""Chat session use cases: the caller's own (created on first use), the visible list, and one by id."""

from __future__ import annotations

import uuid

from chatkeep.core import chat_sessions
from chatkeep.core.callers import Caller
from chatkeep.storage.database import Database
from chatkeep.storage.models import ChatSession


async def current(db: Database, caller: Caller) -> ChatSession:
    """The caller's own chat session; only the first call writes, so the usual one takes no write lock."""
    async with db.read() as session:
        row = await chat_sessions.find_own(session, principal=caller.principal)
    if row is None:
        async with db.write() as session:
            row = await chat_sessions.get_or_create(session, principal=caller.principal)
    return row


async def get_all(db: Database, caller: Caller, *, limit: int, offset: int) -> tuple[list[ChatSession], int]:
    """Visible chat sessions, newest first, and how many there are in all."""
    async with db.read() as session:
        return await chat_sessions.get_all(session, principal=caller.principal, limit=limit, offset=offset)


async def get(db: Database, caller: Caller, chat_session_id: uuid.UUID) -> ChatSession:
    """One chat session the caller may see."""
    async with db.read() as session:
        return await chat_sessions.get(session, principal=caller.principal, chat_session_id=chat_session_id)
