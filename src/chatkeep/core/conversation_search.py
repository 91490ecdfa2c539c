"""Filtered, ordered, paged listings of the conversations a caller may see.

Visibility is the core's rule, not the caller's: members see only their own unexpired conversations,
admins and service tokens all of their organisation's, and nobody another organisation's.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.errors import InvalidInput
from chatkeep.core.principals import Principal
from chatkeep.guards import Severity
from chatkeep.storage.models import ChatSession, Conversation, Message
from chatkeep.storage.types import utcnow

SEVERITIES = tuple(Severity)  # as the guards rank them, harmless first
ORDER_FIELDS = {
    "created": Conversation.created_at,
    "modified": Conversation.updated_at,
    "total_tokens": Conversation.total_tokens,
}


@dataclass(frozen=True, slots=True)
class DateRange:
    """Calendar days in UTC: `on` one day, or `start`..`end` inclusive (either end open)."""

    on: date | None = None
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class ConversationQuery:
    """What to list. Unset (None) filters are not applied."""

    owner_uuid: uuid.UUID | None = None  # the owner's user UUID (see chat_sessions.user_uuid)
    own_only: bool = False  # only the caller's own, even for roles that see the whole organisation
    archived: bool | None = None
    flagged: bool | None = None
    max_severity: str | None = None  # exact match; "none" means never flagged
    created: DateRange = field(default_factory=DateRange)
    modified: DateRange = field(default_factory=DateRange)
    total_tokens_min: int | None = None  # inclusive bounds on the conversation's token total
    total_tokens_max: int | None = None
    has_feedback: bool | None = None  # whether any of its answers has been rated
    text: str | None = None  # case-insensitive, over title, message text and the owner's user id
    untitled_name: str | None = None  # what an untitled conversation is called, so a search matches it
    order_by: Sequence[str] = ("-created",)


@dataclass(frozen=True, slots=True)
class TokenTotals:
    """Tokens recorded on a conversation's messages (every version: each was really generated)."""

    input_tokens: int = 0
    output_tokens: int = 0
    models: tuple[str, ...] = ()
    messages: int = 0  # user and assistant messages, every version
    rated: int = 0  # answers with feedback


async def search(
    session: AsyncSession, *, principal: Principal, query: ConversationQuery, limit: int, offset: int
) -> tuple[list[Conversation], int]:
    """One page of matching conversations in a stable order, and how many match in all."""
    base = select(Conversation).where(*_conditions(principal, query))
    total = await session.scalar(
        select(func.count()).select_from(base.with_only_columns(Conversation.id).subquery())
    )
    rows = await session.execute(_ordered(base, query.order_by).limit(limit).offset(offset))
    return list(rows.scalars()), int(total or 0)


async def token_totals(
    session: AsyncSession, *, conversation_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, TokenTotals]:
    """Token sums and distinct models per conversation, in one grouped query."""
    if not conversation_ids:
        return {}
    rows = await session.execute(
        select(
            Message.conversation_id,
            Message.model,
            func.coalesce(func.sum(Message.input_tokens), 0),
            func.coalesce(func.sum(Message.output_tokens), 0),
            func.count(Message.id).filter(Message.role.in_(("user", "assistant"))),
            func.count(Message.feedback_score),
        )
        .where(Message.conversation_id.in_(conversation_ids))
        .group_by(Message.conversation_id, Message.model)
    )
    sums: dict[uuid.UUID, list[Any]] = defaultdict(lambda: [0, 0, set(), 0, 0])
    for conversation_id, model, input_tokens, output_tokens, messages, rated in rows:
        entry = sums[conversation_id]
        entry[0] += int(input_tokens or 0)
        entry[1] += int(output_tokens or 0)
        if model:
            entry[2].add(model)
        entry[3] += int(messages or 0)
        entry[4] += int(rated or 0)
    return {cid: TokenTotals(i, o, tuple(sorted(models)), n, r) for cid, (i, o, models, n, r) in sums.items()}


def _conditions(principal: Principal, query: ConversationQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Conversation.org_id == principal.org_id,
        or_(Conversation.expires_at.is_(None), Conversation.expires_at > utcnow()),
    ]
    if query.own_only or not principal.sees_whole_org:
        conditions.append(Conversation.user_id == principal.user_id)
    if query.owner_uuid is not None:
        # A UUID that names nobody in this organisation yields NULL, which matches nothing.
        owner = select(ChatSession.user_id).where(
            ChatSession.org_id == principal.org_id, ChatSession.user_uuid == query.owner_uuid
        )
        conditions.append(Conversation.user_id == owner.scalar_subquery())
    if query.archived is not None:
        conditions.append(Conversation.archived.is_(query.archived))
    if query.flagged is not None:
        conditions.append(Conversation.is_flagged.is_(query.flagged))
    if query.max_severity is not None:
        if query.max_severity not in SEVERITIES:
            raise InvalidInput(f"severity must be one of {list(SEVERITIES)}", field="severity")
        conditions.append(Conversation.max_severity == query.max_severity)
    conditions += _in_days(Conversation.created_at, query.created, "created")
    conditions += _in_days(Conversation.updated_at, query.modified, "modified")
    if query.total_tokens_min is not None:
        conditions.append(Conversation.total_tokens >= query.total_tokens_min)
    if query.total_tokens_max is not None:
        conditions.append(Conversation.total_tokens <= query.total_tokens_max)
    if query.has_feedback is not None:
        rated = exists().where(
            Message.conversation_id == Conversation.id, Message.feedback_score.is_not(None)
        )
        conditions.append(rated if query.has_feedback else ~rated)
    if query.text:
        conditions.append(_matches_text(query.text, query.untitled_name))
    return conditions


def conditions(principal: Principal, query: ConversationQuery) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a query: visibility first, then its filters (for aggregates over them)."""
    return _conditions(principal, query)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _in_days(column: Any, days: DateRange, name: str) -> list[ColumnElement[bool]]:
    """Calendar-day bounds as half-open timestamp ranges, so the indexes on the timestamps serve them.

    `name` is the filter's name (`created`, `modified`): a day whose end cannot be written as a timestamp
    (the last day of the calendar) is invalid input naming it (`created`, `created_before` …).
    """
    conditions: list[ColumnElement[bool]] = []
    if days.on is not None:
        conditions += [column >= _day_start(days.on), column < _next_day_start(days.on, name)]
    if days.start is not None:
        conditions.append(column >= _day_start(days.start))
    if days.end is not None:
        conditions.append(column < _next_day_start(days.end, f"{name}_before"))
    return conditions


def _next_day_start(day: date, name: str) -> datetime:
    if day >= date.max:
        raise InvalidInput(f"{name} must be a day before {date.max.isoformat()}", field=name)
    return _day_start(day + timedelta(days=1))


def _matches_text(text: str, untitled_name: str | None) -> ColumnElement[bool]:
    matches = [
        Conversation.title.icontains(text, autoescape=True),
        Conversation.user_id.icontains(text, autoescape=True),
        # Every stored version counts: a thread is found by text the user once wrote in it.
        exists().where(
            Message.conversation_id == Conversation.id, Message.content.icontains(text, autoescape=True)
        ),
    ]
    if untitled_name is not None and text.lower() in untitled_name.lower():
        matches.append(Conversation.title.is_(None))
    return or_(*matches)


def _ordered(query: Select[Any], order_by: Sequence[str]) -> Select[Any]:
    """Apply `created`/`-modified`-style keys, then the id, so pages never overlap or skip rows."""
    clauses: list[Any] = []
    for key in order_by or ("-created",):
        column = ORDER_FIELDS.get(key.removeprefix("-"))
        if column is None:
            raise InvalidInput(f"cannot order by {key!r}", field="ordering")
        clauses.append(column.desc() if key.startswith("-") else column.asc())
    last_descending = (order_by or ("-created",))[-1].startswith("-")
    clauses.append(Conversation.id.desc() if last_descending else Conversation.id.asc())
    return query.order_by(*clauses)
