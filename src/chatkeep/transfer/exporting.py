"""Stream an organisation's conversations, message versions, chat sessions and usage as export records.

Memory stays bounded whatever the organisation's size: conversations are read a page at a time, and each
conversation's messages and the usage ledger through server-side cursors, a partition at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from chatkeep.core import organisations
from chatkeep.storage.database import Database
from chatkeep.storage.models import CONVERSATIONS, MESSAGES, USAGE_RECORDS, ChatSession
from chatkeep.storage.types import utcnow
from chatkeep.transfer.records import to_json

FORMAT = "chatkeep-export"
VERSION = 1
PAGE = 200  # conversations held at once
PARTITION = 1000  # rows fetched at once from a cursor
CHAT_SESSIONS: Table = ChatSession.__table__  # type: ignore[assignment]


async def count_messages(db: Database, *, org_name: str, since: datetime | None = None) -> int:
    """How many message rows an export of the organisation holds (for a progress bar)."""
    async with db.read() as session:
        org = await organisations.get_by_name_or_raise(session, name=org_name)
        query = select(func.count()).select_from(MESSAGES).where(MESSAGES.c.org_id == org.id)
        if since is not None:
            changed = select(CONVERSATIONS.c.id).where(
                CONVERSATIONS.c.org_id == org.id, CONVERSATIONS.c.updated_at >= since
            )
            query = query.where(MESSAGES.c.conversation_id.in_(changed))
        return int(await session.scalar(query) or 0)


async def export_org(
    db: Database, *, org_name: str, since: datetime | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Every record of the organisation, header first.

    With `since`, only conversations updated at or after it (with all their messages) and usage rows
    created at or after it: an incremental copy. Everything is read in one transaction.
    """
    async with db.read() as session:
        org = await organisations.get_by_name_or_raise(session, name=org_name)
        yield {
            "record": FORMAT,
            "version": VERSION,
            "org": {"id": str(org.id), "name": org.name, "config": org.config or {}},
            "since": since.isoformat() if since else None,
            "exported_at": utcnow().isoformat(),
        }
        conn = await session.connection()
        async for line in _conversations(conn, org.id, since):
            yield line
        sessions = select(CHAT_SESSIONS).where(CHAT_SESSIONS.c.org_id == org.id)
        if since is not None:
            sessions = sessions.where(CHAT_SESSIONS.c.updated_at >= since)
        async for line in _stream(conn, CHAT_SESSIONS, sessions.order_by(CHAT_SESSIONS.c.id), "chat_session"):
            yield line
        usage = select(USAGE_RECORDS).where(USAGE_RECORDS.c.org_id == org.id)
        if since is not None:
            usage = usage.where(USAGE_RECORDS.c.created_at >= since)
        ordered = usage.order_by(USAGE_RECORDS.c.created_at, USAGE_RECORDS.c.id)
        async for line in _stream(conn, USAGE_RECORDS, ordered, "usage"):
            yield line


async def _conversations(
    conn: AsyncConnection, org_id: Any, since: datetime | None
) -> AsyncIterator[dict[str, Any]]:
    """Conversations oldest first, a page at a time (keyset on created_at, id), each followed by its
    messages: only one cursor is open at a time."""
    after: tuple[Any, Any] | None = None
    while True:
        query = select(CONVERSATIONS).where(CONVERSATIONS.c.org_id == org_id)
        if since is not None:
            query = query.where(CONVERSATIONS.c.updated_at >= since)
        if after is not None:
            # Typed literals: on SQLite the timestamp must be bound as the column stores it (UTCDateTime).
            last = tuple_(
                literal(after[0], CONVERSATIONS.c.created_at.type), literal(after[1], CONVERSATIONS.c.id.type)
            )
            query = query.where(tuple_(CONVERSATIONS.c.created_at, CONVERSATIONS.c.id) > last)
        page = (
            (await conn.execute(query.order_by(CONVERSATIONS.c.created_at, CONVERSATIONS.c.id).limit(PAGE)))
            .mappings()
            .all()
        )
        for row in page:
            yield to_json(CONVERSATIONS, row, "conversation")
            messages = (
                select(MESSAGES)
                .where(MESSAGES.c.conversation_id == row["id"])
                .order_by(MESSAGES.c.sequence_index, MESSAGES.c.created_at, MESSAGES.c.id)
            )
            async for line in _stream(conn, MESSAGES, messages, "message"):
                yield line
        if len(page) < PAGE:
            return
        after = (page[-1]["created_at"], page[-1]["id"])


async def _stream(
    conn: AsyncConnection, table: Table, query: Any, record: str
) -> AsyncIterator[dict[str, Any]]:
    result = await conn.stream(query.execution_options(yield_per=PARTITION))
    async for partition in result.mappings().partitions():
        for row in partition:
            yield to_json(table, row, record)
