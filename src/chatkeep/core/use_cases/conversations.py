"""Conversation use cases: start, read, list, search, update, extend, archive and delete."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chatkeep.core import audit, conversation_search, conversation_stats, conversations, screening
from chatkeep.core.callers import Caller
from chatkeep.core.conversation_search import ConversationQuery
from chatkeep.core.conversation_stats import ConversationStats
from chatkeep.core.conversations import NewMessage, Settings
from chatkeep.core.errors import InvalidInput
from chatkeep.storage.database import Database
from chatkeep.storage.models import Conversation, Message


@dataclass(frozen=True, slots=True)
class WithHistory:
    conversation: Conversation
    history: list[Message]


@dataclass(frozen=True, slots=True)
class Found:
    """A page of conversations with the total that matched and each one's token totals."""

    rows: list[Conversation]
    total: int
    token_totals: dict[uuid.UUID, Any]


async def start(
    db: Database,
    caller: Caller,
    *,
    user_id: str | None = None,
    group: str | None = None,
    metadata: dict[str, Any] | None = None,
    expires_in: timedelta | None = None,
    title: str | None = None,
    settings: Settings | None = None,
    known_models: Collection[str] = (),
    initial_messages: Sequence[NewMessage] = (),
) -> Conversation:
    """Create a conversation for a user of the caller's organisation, its first messages screened (every
    role: what is stored now reaches a model later). A model in `settings` must be one of `known_models`
    and enabled for the organisation; the settings' system prompt is screened with every turn."""
    model = settings.model if settings is not None else None
    if model is not None and (model not in known_models or not caller.config.allows(model)):
        raise InvalidInput(f"model {model!r} is not available to this organisation", field="model")
    screened = await screening.screen_stored(initial_messages, screening.policy_of(caller.config))
    async with db.direct_write() as tx:
        return await conversations.create(
            tx,
            principal=caller.principal,
            user_id=user_id,
            group=group,
            metadata=metadata,
            expires_in=expires_in,
            title=title,
            settings=settings,
            initial_messages=screened,
        )


async def get_with_history(db: Database, caller: Caller, conversation_id: uuid.UUID) -> WithHistory:
    """A conversation the caller may see, with its visible message history.

    Two statements on the driver, outside a transaction (see Database.direct_read): the history read is
    the path from the leaf the conversation row named, and rows on a path are never rewritten (but for
    an unfinished answer's, which may be settled in between)."""
    async with db.direct_read() as statements:
        conversation = await conversations.get(
            statements, principal=caller.principal, conversation_id=conversation_id
        )
        history = await conversations.visible_history(statements, conversation=conversation)
    return WithHistory(conversation, history)


async def get_all(
    db: Database,
    caller: Caller,
    *,
    user_id: str | None = None,
    group: str | None = None,
    model: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Conversation]:
    """Unexpired conversations the caller may see, newest first."""
    async with db.direct_read() as statements:
        return await conversations.get_all(
            statements,
            principal=caller.principal,
            user_id=user_id,
            group=group,
            model=model,
            limit=limit,
            offset=offset,
        )


async def search(db: Database, caller: Caller, query: ConversationQuery, *, limit: int, offset: int) -> Found:
    """Conversations matching a filtered query, with the total and their token totals."""
    async with db.read() as session:
        rows, total = await conversation_search.search(
            session, principal=caller.principal, query=query, limit=limit, offset=offset
        )
        totals = await conversation_search.token_totals(session, conversation_ids=[r.id for r in rows])
    return Found(rows=rows, total=total, token_totals=totals)


async def stats(db: Database, caller: Caller, query: ConversationQuery) -> ConversationStats:
    """Totals over the conversations matching a filtered query."""
    async with db.read() as session:
        return await conversation_stats.totals(session, principal=caller.principal, query=query)


async def get_one(db: Database, caller: Caller, conversation_id: uuid.UUID) -> Found:
    """One conversation the caller may see, with its token totals."""
    async with db.read() as session:
        row = await conversations.get(session, principal=caller.principal, conversation_id=conversation_id)
        totals = await conversation_search.token_totals(session, conversation_ids=[row.id])
    return Found(rows=[row], total=1, token_totals=totals)


async def update(
    db: Database,
    caller: Caller,
    conversation_id: uuid.UUID,
    *,
    new_messages: Sequence[NewMessage] = (),
    status: str | None = None,
    metadata: dict[str, Any] | None = None,
    add_tokens: int = 0,
) -> Conversation:
    """Append (screened) messages, change status, merge metadata and add to the token total."""
    screened = await screening.screen_stored(new_messages, screening.policy_of(caller.config))
    async with db.write(serialize=conversation_id) as session:
        conversation = await conversations.get(
            session, principal=caller.principal, conversation_id=conversation_id, for_update=True
        )
        if screened:
            await conversations.append_messages(session, conversation=conversation, messages=screened)
        return conversations.update(conversation, status=status, metadata=metadata, add_tokens=add_tokens)


@dataclass(frozen=True, slots=True)
class Extended:
    """The conversation after an extension, and how much later it now expires (less than asked when the
    24-hour cap cut it)."""

    conversation: Conversation
    applied: timedelta


async def extend(db: Database, caller: Caller, conversation_id: uuid.UUID, *, minutes: int) -> Extended:
    """Push the conversation's expiry back (at most 24 hours from now)."""
    async with db.write(serialize=conversation_id) as session:
        conversation = await conversations.get(
            session, principal=caller.principal, conversation_id=conversation_id, for_update=True
        )
        before = conversation.expires_at
        conversations.extend(conversation, minutes=minutes)
        assert conversation.expires_at is not None
        # A session that never expired, or already had, is extended from now.
        start = before if before is not None and before > conversation.updated_at else conversation.updated_at
        return Extended(conversation, max(conversation.expires_at - start, timedelta(0)))


async def set_archived(db: Database, caller: Caller, conversation_id: uuid.UUID, *, archived: bool) -> None:
    """Archive or restore a conversation; only its owner may (others who can see it get Forbidden)."""
    async with db.write(serialize=conversation_id) as session:
        conversation = await conversations.get(
            session, principal=caller.principal, conversation_id=conversation_id, for_update=True
        )
        conversations.set_archived(conversation, principal=caller.principal, archived=archived)
        await audit.record(
            session,
            principal=caller.principal,
            action=audit.archive_action(archived),
            subject=f"conversation:{conversation_id}",
        )


async def delete(db: Database, caller: Caller, conversation_id: uuid.UUID) -> None:
    """Delete a conversation and all of its messages."""
    async with db.write(serialize=conversation_id) as session:
        conversation = await conversations.get(
            session, principal=caller.principal, conversation_id=conversation_id, for_update=True
        )
        await conversations.delete(session, conversation=conversation)
        await audit.record(
            session,
            principal=caller.principal,
            action="conversation.delete",
            subject=f"conversation:{conversation_id}",
        )
