"""Every stored version of the messages in the conversations a caller may see.

The message tree (see conversations) keeps every edit and regeneration. Clients that think in flat,
versioned lists (Waldur's `replaces`, `include_history`) get two views of that tree:
- a message is **superseded** when it is not on the path from the root to the conversation's leaf;
- a message **replaces** its previous sibling: the newest earlier message with the same parent and the
  same role (an edit replaces the user message it rewrites, a regeneration the answer it redoes).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.principals import Principal
from chatkeep.storage.models import Conversation, Message
from chatkeep.storage.types import utcnow

_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True, slots=True)
class MessageVersion:
    """One stored message with its place among the versions of its turn."""

    message: Message
    replaces: uuid.UUID | None
    superseded: bool


def active_path(messages: Iterable[Any], leaf_id: uuid.UUID | None) -> set[uuid.UUID]:
    """Ids on the path from the root to `leaf_id`: the visible history."""
    by_id = {m.id: m for m in messages}
    path: set[uuid.UUID] = set()
    cursor = leaf_id
    while cursor is not None and cursor in by_id and cursor not in path:  # a corrupt cycle stops
        path.add(cursor)
        cursor = by_id[cursor].parent_id
    return path


def link_versions(messages: Sequence[Any], leaf_id: uuid.UUID | None) -> list[MessageVersion]:
    """Mark one conversation's messages superseded or not and link each to the version it replaces.

    `messages` are Message rows or any rows with their `id`, `parent_id`, `role` and `created_at`.
    """
    active = active_path(messages, leaf_id)
    siblings: dict[tuple[uuid.UUID | None, str], list[Any]] = defaultdict(list)
    for message in messages:
        siblings[(message.parent_id, message.role)].append(message)
    replaces: dict[uuid.UUID, uuid.UUID | None] = {}
    for group in siblings.values():
        group.sort(key=lambda m: (m.created_at, m.id))
        previous: uuid.UUID | None = None
        for message in group:
            replaces[message.id] = previous
            previous = message.id
    # The first answer to an edited message has no earlier sibling, but it supersedes the answer to the
    # version that was edited: the newest earlier child of that version with the same role.
    for message in messages:
        if replaces[message.id] is not None or message.parent_id is None:
            continue
        edited = replaces.get(message.parent_id)
        if edited is None:
            continue
        earlier = [
            m
            for m in siblings.get((edited, message.role), ())
            if (m.created_at, m.id) < (message.created_at, message.id)
        ]
        if earlier:
            replaces[message.id] = earlier[-1].id
    return [MessageVersion(m, replaces[m.id], m.id not in active) for m in messages]


@dataclass(frozen=True, slots=True)
class Place:
    """Where a message stands among the versions, without its content: what a listing is ordered by."""

    id: uuid.UUID
    replaces: uuid.UUID | None
    superseded: bool
    size: int  # the content's length, so a listing can fetch content in batches of bounded size


async def places(
    session: AsyncSession,
    *,
    principal: Principal,
    conversation_id: uuid.UUID | None = None,
    include_superseded: bool = False,
    flagged: bool | None = None,
    roles: Collection[str] | None = None,
) -> list[Place]:
    """The messages of every visible conversation (or of one) in listing order — sequence index, then
    creation — read without their content, so a listing can then fetch the content in small batches.

    A conversation the caller may not see, or that has expired, contributes nothing (no error).
    Superseded versions are included only when asked for.
    """
    query = select(
        Message.id,
        Message.conversation_id,
        Message.parent_id,
        Message.role,
        Message.created_at,
        Message.sequence_index,
        Message.is_flagged,
        func.length(Message.content).label("size"),
        Conversation.active_leaf_id,
    )
    query = _visible(query, principal=principal, conversation_id=conversation_id)
    by_conversation: dict[uuid.UUID, list[Any]] = defaultdict(list)
    leaves: dict[uuid.UUID, uuid.UUID | None] = {}
    for row in await session.execute(query):
        by_conversation[row.conversation_id].append(row)
        leaves[row.conversation_id] = row.active_leaf_id
    kept: list[tuple[Any, MessageVersion]] = [
        (version.message, version)
        for cid, rows in by_conversation.items()
        for version in link_versions(rows, leaves[cid])
        if (include_superseded or not version.superseded)
        and (flagged is None or version.message.is_flagged == flagged)
        and (roles is None or version.message.role in roles)
    ]
    kept.sort(key=lambda pair: (pair[0].sequence_index, pair[0].created_at, pair[0].id))
    return [Place(row.id, version.replaces, version.superseded, int(row.size or 0)) for row, version in kept]


async def with_content(session: AsyncSession, places: Sequence[Place]) -> list[MessageVersion]:
    """The full messages at `places`, in their order (a message deleted meanwhile is left out)."""
    rows = await session.scalars(select(Message).where(Message.id.in_([p.id for p in places])))
    by_id = {m.id: m for m in rows}
    return [MessageVersion(by_id[p.id], p.replaces, p.superseded) for p in places if p.id in by_id]


async def get_all(
    session: AsyncSession,
    *,
    principal: Principal,
    conversation_id: uuid.UUID | None = None,
    include_superseded: bool = False,
    flagged: bool | None = None,
    roles: Collection[str] | None = None,
) -> list[MessageVersion]:
    """Messages of every visible conversation (or of one), ordered by sequence index, then creation.

    A conversation the caller may not see, or that has expired, contributes nothing (no error).
    Superseded versions are included only when asked for.
    """
    query = select(Message, Conversation.active_leaf_id)
    query = _visible(query, principal=principal, conversation_id=conversation_id)
    by_conversation: dict[uuid.UUID, list[Message]] = defaultdict(list)
    leaves: dict[uuid.UUID, uuid.UUID | None] = {}
    for message, leaf_id in await session.execute(query):
        by_conversation[message.conversation_id].append(message)
        leaves[message.conversation_id] = leaf_id
    versions = [
        version
        for cid, messages in by_conversation.items()
        for version in link_versions(messages, leaves[cid])
        if (include_superseded or not version.superseded)
        and (flagged is None or version.message.is_flagged == flagged)
        and (roles is None or version.message.role in roles)
    ]
    versions.sort(key=lambda v: (v.message.sequence_index, v.message.created_at, v.message.id))
    return versions


def _visible(query: _Query, *, principal: Principal, conversation_id: uuid.UUID | None) -> _Query:
    """`query` over messages, kept to the caller's unexpired conversations (to one, given its id)."""
    query = query.join(Conversation, Conversation.id == Message.conversation_id).where(
        Conversation.org_id == principal.org_id,
        Message.org_id == principal.org_id,
        or_(Conversation.expires_at.is_(None), Conversation.expires_at > utcnow()),
    )
    if not principal.sees_whole_org:
        query = query.where(Conversation.user_id == principal.user_id)
    if conversation_id is not None:
        query = query.where(Conversation.id == conversation_id)
    return query
