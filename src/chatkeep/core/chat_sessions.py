"""Chat sessions: the per-user container of that user's conversations, one per (organisation, user).

A chat session and its user are named by UUIDs derived from (organisation, user id) with uuid5, so every
replica and the migration that backfilled existing users agree on them without a lookup. The user UUID
is scoped by organisation: the same user id in two organisations gets two unrelated UUIDs.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.errors import NotFound
from chatkeep.core.principals import Principal
from chatkeep.storage.models import CHAT_SESSIONS, ChatSession
from chatkeep.storage.prepared import Prepared, Statements, on
from chatkeep.storage.types import utcnow

# Fixed forever: changing either renames every session and user. Migration 0002 holds a frozen copy.
SESSION_NAMESPACE = uuid.UUID("16aafd0c-59bf-42c9-b1af-7799eb40d5a1")
USER_NAMESPACE = uuid.UUID("a2dd67b0-26e4-42f5-8b67-2fc66af87edb")


def session_id(org_id: uuid.UUID, user_id: str) -> uuid.UUID:
    """The id of the chat session of a user of an organisation."""
    return uuid.uuid5(SESSION_NAMESPACE, f"{org_id}/{user_id}")


def user_uuid(org_id: uuid.UUID, user_id: str) -> uuid.UUID:
    """The UUID under which a user of an organisation is shown to clients that expect user UUIDs."""
    return uuid.uuid5(USER_NAMESPACE, f"{org_id}/{user_id}")


async def ensure(session: AsyncSession | Statements, *, org_id: uuid.UUID, user_id: str) -> None:
    """Insert the user's chat session unless it exists.

    INSERT … ON CONFLICT DO NOTHING, so concurrent first calls never fail: on PostgreSQL the later one
    waits for the earlier transaction and then does nothing; SQLite writers are serialised anyway.
    A prepared statement: every new conversation runs it (see storage.prepared).
    """
    now = utcnow()
    values = {
        "id": session_id(org_id, user_id),
        "org_id": org_id,
        "user_id": user_id,
        "user_uuid": user_uuid(org_id, user_id),
        "created_at": now,
        "updated_at": now,
    }
    await on(session).run(_ENSURE, values)


# Every column a parameter, named as the column; each dialect's own INSERT … ON CONFLICT DO NOTHING.
_ENSURE = Prepared(
    sqlite_insert(CHAT_SESSIONS).on_conflict_do_nothing(),
    variants={"postgresql": pg_insert(CHAT_SESSIONS).on_conflict_do_nothing()},
)


async def find_own(session: AsyncSession, *, principal: Principal) -> ChatSession | None:
    """The caller's own chat session, if it exists yet."""
    query = select(ChatSession).where(
        ChatSession.org_id == principal.org_id, ChatSession.user_id == principal.user_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def get_or_create(session: AsyncSession, *, principal: Principal) -> ChatSession:
    """The caller's own chat session, created on first use; concurrent first calls get the same row."""
    await ensure(session, org_id=principal.org_id, user_id=principal.user_id)
    found = await find_own(session, principal=principal)
    if found is None:  # pragma: no cover - the insert above or a concurrent one guarantees the row
        raise NotFound("chat session not found", field="chat_session")
    return found


async def get(session: AsyncSession, *, principal: Principal, chat_session_id: uuid.UUID) -> ChatSession:
    """A chat session the caller may see: their own, or any of the organisation's for privileged roles."""
    query = select(ChatSession).where(
        ChatSession.id == chat_session_id, ChatSession.org_id == principal.org_id
    )
    if not principal.sees_whole_org:
        query = query.where(ChatSession.user_id == principal.user_id)
    found = (await session.execute(query)).scalar_one_or_none()
    if found is None:
        raise NotFound("chat session not found", field="chat_session")
    return found


async def get_all(
    session: AsyncSession, *, principal: Principal, limit: int, offset: int
) -> tuple[list[ChatSession], int]:
    """Visible chat sessions, newest first in a stable order, and how many there are in all."""
    where = [ChatSession.org_id == principal.org_id]
    if not principal.sees_whole_org:
        where.append(ChatSession.user_id == principal.user_id)
    total = await session.scalar(select(func.count()).select_from(ChatSession).where(*where))
    rows = await session.execute(
        select(ChatSession)
        .where(*where)
        .order_by(ChatSession.created_at.desc(), ChatSession.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows.scalars()), int(total or 0)


async def user_named(
    session: AsyncSession, *, principal: Principal, user_uuid_value: uuid.UUID
) -> str | None:
    """The user id a user UUID names in the caller's organisation: the caller, or anyone with a chat
    session there; None if it names nobody."""
    if user_uuid_value == user_uuid(principal.org_id, principal.user_id):
        return principal.user_id
    found: str | None = await session.scalar(
        select(ChatSession.user_id).where(
            ChatSession.org_id == principal.org_id, ChatSession.user_uuid == user_uuid_value
        )
    )
    return found
