"""Conversations and their message tree.

A conversation's messages form a tree: each message points at its parent, edits and regenerations are
siblings, and the conversation points at its active leaf. The visible history is the path from the root
to that leaf, so no version is ever lost. `sequence_index` is a message's depth (1-based): siblings share it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, Uuid, bindparam, case, inspect, literal, select
from sqlalchemy import delete as sql_delete
from sqlalchemy import insert as sql_insert
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from chatkeep.core import chat_sessions
from chatkeep.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from chatkeep.core.principals import Principal
from chatkeep.guards import Severity
from chatkeep.storage.models import CONVERSATIONS, MESSAGES, Conversation, Message
from chatkeep.storage.prepared import Loader, Prepared, Statements, on
from chatkeep.storage.types import utcnow

ROLES = frozenset({"system", "user", "assistant", "tool"})
STATUSES = frozenset({"active", "completed"})
MAX_EXTENSION = timedelta(minutes=1440)
# Token counts are 64-bit columns; this cap keeps every count exact in JSON clients (JavaScript numbers)
# and leaves the columns room, so adding to a total can saturate but never overflow.
MAX_TOTAL_TOKENS = 2**53 - 1
_MESSAGE_COLUMNS = tuple(MESSAGES.columns)


@dataclass(frozen=True, slots=True)
class Settings:
    """How a conversation's turns generate unless a turn says otherwise; None: the usual defaults."""

    model: str | None = None
    system_prompt: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None


@dataclass(slots=True)
class NewMessage:
    """A message to append; the core assigns its id, parent and sequence index."""

    role: str
    content: str
    blocks: list[dict[str, Any]] | None = None
    model: str | None = None
    status: str = "complete"
    input_tokens: int | None = None
    output_tokens: int | None = None
    safety: dict[str, Any] = field(default_factory=dict)
    runner_id: str | None = None  # for an answer reserved for a running turn: the process running it


# A conversation's metadata is stored whole and sent back with every read and every listing of it: bounded,
# so that one caller cannot make each page of its organisation's sessions megabytes long.
METADATA_MAX_CHARS = 16 * 1024


def _bounded(metadata: dict[str, Any]) -> dict[str, Any]:
    try:
        size = len(json.dumps(metadata, ensure_ascii=False, separators=(",", ":")))
    except RecursionError:
        size = METADATA_MAX_CHARS + 1
    if size > METADATA_MAX_CHARS:
        raise InvalidInput(
            f"metadata may be at most {METADATA_MAX_CHARS} characters as JSON", field="metadata"
        )
    return metadata


async def create(
    session: AsyncSession | Statements,
    *,
    principal: Principal,
    user_id: str | None = None,
    group: str | None = None,
    metadata: dict[str, Any] | None = None,
    expires_in: timedelta | None = None,
    title: str | None = None,
    model: str | None = None,
    settings: Settings | None = None,
    initial_messages: Sequence[NewMessage] = (),
) -> Conversation:
    """Create a conversation for a user of the caller's organisation, optionally with first messages.

    In a direct transaction the row is one prepared INSERT and comes back as a transient instance, for
    reading; in a session it is added to the session.
    """
    now = utcnow()
    settings = settings or Settings()
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "org_id": principal.org_id,
        "user_id": principal.acting_user(user_id),
        "group": group,
        "meta": _bounded(dict(metadata or {})),
        "title": title,
        "model": model or settings.model,
        "default_model": settings.model,
        "system_prompt": settings.system_prompt,
        "max_tokens": settings.max_tokens,
        "temperature": settings.temperature,
        "status": "active",
        "archived": False,
        "expires_at": now + expires_in if expires_in is not None else None,
        "active_leaf_id": None,
        "message_count": 0,
        "total_tokens": 0,
        "is_flagged": False,
        "max_severity": Severity.NONE.value,
        "created_at": now,
        "updated_at": now,
    }
    if isinstance(session, AsyncSession):
        conversation = Conversation(**fields)
        session.add(conversation)
        await session.flush()
    else:
        row = {column.key: fields[key] for column, key in _CONVERSATION_FIELDS}
        await session.run(_INSERT_CONVERSATION, row)
        conversation = _CONVERSATION(tuple(row.values()))
    # Every conversation lives in its owner's chat session; create that on the owner's first conversation.
    await chat_sessions.ensure(session, org_id=conversation.org_id, user_id=conversation.user_id)
    if initial_messages:
        await append_messages(session, conversation=conversation, messages=initial_messages)
    return conversation


def title_from(text: str, *, max_words: int = 8, max_chars: int = 150) -> str:
    """A thread title from its first message: the first words on one line, shortened with an ellipsis."""
    words = text.split()
    title = " ".join(words[:max_words])
    if len(words) > max_words or len(title) > max_chars:
        title = title[: max_chars - 1].rstrip() + "…"
    return title or "New chat"


def is_expired(conversation: Conversation, now: datetime | None = None) -> bool:
    return conversation.expires_at is not None and conversation.expires_at <= (now or utcnow())


async def get(
    session: AsyncSession | Statements,
    *,
    principal: Principal,
    conversation_id: uuid.UUID,
    for_update: bool = False,
) -> Conversation:
    """A conversation the caller may see; NotFound if it is absent, another tenant's or user's, or expired.

    An expired conversation behaves exactly like a deleted one: the background purge only reclaims space.
    In a direct transaction (a turn's) the row comes back as a transient instance, for reading.
    """
    if isinstance(session, AsyncSession):
        query = select(Conversation).where(
            Conversation.id == conversation_id, Conversation.org_id == principal.org_id
        )
        if not principal.sees_whole_org:
            query = query.where(Conversation.user_id == principal.user_id)
        if for_update:
            query = query.with_for_update()
        conversation = (await session.execute(query)).scalar_one_or_none()
    else:
        statement = _VISIBLE[principal.sees_whole_org, for_update]
        params = {"conversation_id": conversation_id, "org_id": principal.org_id, "owner": principal.user_id}
        row = await session.first(statement, params)
        conversation = None if row is None else _CONVERSATION(row)
    if conversation is None:
        raise NotFound("conversation not found", field="conversation")
    if is_expired(conversation):
        raise NotFound("conversation has expired", field="conversation")
    return conversation


def _visible_statement(*, whole_org: bool, for_update: bool) -> Prepared:
    query = select(*CONVERSATIONS.columns).where(
        CONVERSATIONS.c.id == bindparam("conversation_id"), CONVERSATIONS.c.org_id == bindparam("org_id")
    )
    if not whole_org:
        query = query.where(CONVERSATIONS.c.user_id == bindparam("owner"))
    return Prepared(query.with_for_update() if for_update else query)


_CONVERSATION = Loader(Conversation)
_MESSAGE = Loader(Message)
# (table column, the attribute it maps to) in table order: `Loader`'s order, and the INSERT's parameters.
_CONVERSATION_FIELDS = tuple(
    (column, inspect(Conversation).get_property_by_column(column).key) for column in _CONVERSATION.columns
)
_INSERT_CONVERSATION = Prepared(sql_insert(CONVERSATIONS))  # every column a parameter, named as the column
_VISIBLE = {
    (whole_org, for_update): _visible_statement(whole_org=whole_org, for_update=for_update)
    for whole_org in (False, True)
    for for_update in (False, True)
}


async def get_all(
    session: AsyncSession | Statements,
    *,
    principal: Principal,
    user_id: str | None = None,
    group: str | None = None,
    model: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Conversation]:
    """Unexpired conversations of the caller's organisation, newest first, in a stable order.

    One prepared statement per combination of filters; the rows come back as transient instances, for
    reading.
    """
    visible_user = principal.visible_user(user_id)
    statement = _LISTINGS[visible_user is not None, group is not None, model is not None]
    params = {
        "org_id": principal.org_id,
        "owner": visible_user,
        "in_group": group,
        "model": model,
        "now": utcnow(),
        "row_limit": limit,
        "row_offset": offset,
    }
    return [_CONVERSATION(row) for row in await on(session).fetch(statement, params)]


def _listing_statement(*, by_user: bool, by_group: bool, by_model: bool) -> Prepared:
    query = select(*CONVERSATIONS.columns).where(CONVERSATIONS.c.org_id == bindparam("org_id"))
    if by_user:
        query = query.where(CONVERSATIONS.c.user_id == bindparam("owner"))
    if by_group:
        query = query.where(CONVERSATIONS.c.session_group == bindparam("in_group"))
    if by_model:
        query = query.where(CONVERSATIONS.c.model == bindparam("model"))
    expires_at = CONVERSATIONS.c.expires_at
    query = query.where(expires_at.is_(None) | (expires_at > bindparam("now")))
    return Prepared(
        query.order_by(CONVERSATIONS.c.created_at.desc(), CONVERSATIONS.c.id.desc())
        .limit(bindparam("row_limit", type_=Integer))
        .offset(bindparam("row_offset", type_=Integer))
    )


_LISTINGS = {
    (by_user, by_group, by_model): _listing_statement(by_user=by_user, by_group=by_group, by_model=by_model)
    for by_user in (False, True)
    for by_group in (False, True)
    for by_model in (False, True)
}


def update(
    conversation: Conversation,
    *,
    status: str | None = None,
    metadata: dict[str, Any] | None = None,
    add_tokens: int = 0,
) -> Conversation:
    """Change status, merge metadata (a null value removes a key) and add to the token total."""
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"status must be one of {sorted(STATUSES)}", field="status")
        conversation.status = status
    if metadata is not None:
        merged = dict(conversation.meta or {})
        for key, value in metadata.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        conversation.meta = _bounded(merged)
    if add_tokens < 0:
        raise InvalidInput("the tokens to add must not be negative", field="tokens_used")
    if conversation.total_tokens + add_tokens > MAX_TOTAL_TOKENS:
        # Valid on its own, but not on top of what the session already counts: a conflict with its state.
        raise Conflict(f"a conversation's token total cannot exceed {MAX_TOTAL_TOKENS}", field="tokens_used")
    conversation.total_tokens += add_tokens
    conversation.updated_at = utcnow()
    return conversation


def set_archived(conversation: Conversation, *, principal: Principal, archived: bool) -> Conversation:
    """Archive or restore a conversation. Only its owner may, whatever their role; repeating is a no-op."""
    if conversation.user_id != principal.user_id or conversation.org_id != principal.org_id:
        raise Forbidden("only the owner of a conversation may archive or restore it")
    if conversation.archived != archived:
        conversation.archived = archived
        conversation.updated_at = utcnow()
    return conversation


def extend(conversation: Conversation, *, minutes: int) -> Conversation:
    """Push the expiry back by `minutes`, never further than 24 hours from now."""
    now = utcnow()
    base = conversation.expires_at if conversation.expires_at and conversation.expires_at > now else now
    conversation.expires_at = min(base + timedelta(minutes=minutes), now + MAX_EXTENSION)
    conversation.updated_at = now
    return conversation


async def delete(session: AsyncSession, *, conversation: Conversation) -> None:
    """Delete a conversation and all of its messages."""
    await session.execute(sql_delete(Message).where(Message.conversation_id == conversation.id))
    await session.delete(conversation)


async def append_messages(
    session: AsyncSession | Statements,
    *,
    conversation: Conversation,
    messages: Sequence[NewMessage],
    parent_id: uuid.UUID | None = None,
) -> list[Message]:
    """Append messages as a chain under `parent_id` (default: the active leaf) and make the last the leaf.

    The caller holds the conversation row for update (see `get(for_update=True)`), which keeps the
    leaf and the sequence race-free. One INSERT for the chain and one UPDATE of the conversation, as
    prepared table statements: every turn comes through here, and the ORM's flush cost more than the SQL.
    The returned rows are not in the session; `conversation` is kept in step with what was written.
    """
    if parent_id is None:
        parent_id = conversation.active_leaf_id
        depth = conversation.message_count
    else:
        parent = await _message_in(session, conversation, parent_id)
        depth = parent.sequence_index
    now = utcnow()
    changes: dict[str, Any] = {}
    created: list[Message] = []
    for new in messages:
        if new.role not in ROLES:
            raise InvalidInput(f"role must be one of {sorted(ROLES)}", field="role")
        depth += 1
        message = Message(
            id=uuid.uuid4(),
            org_id=conversation.org_id,
            conversation_id=conversation.id,
            parent_id=parent_id,
            role=new.role,
            content=new.content,
            blocks=new.blocks,
            sequence_index=depth,
            status=new.status,
            model=new.model,
            input_tokens=new.input_tokens,
            output_tokens=new.output_tokens,
            runner_id=new.runner_id,
            created_at=now,
            **{**_unflagged(), **new.safety},
        )
        if (
            conversation.title is None
            and "title" not in changes
            and new.role == "user"
            and new.content.strip()
            and message.action_taken != "block"
        ):
            # A list of sessions needs something to show; never a message the guards blocked.
            changes["title"] = title_from(new.content)
        if message.is_flagged:
            changes.update(_rolled_up_flag(conversation, changes, message.severity))
        created.append(message)
        parent_id = message.id
    if not created:
        return created
    statements = on(session)
    await statements.run_many(_INSERT_MESSAGES, [_row(m) for m in created])
    changes.update(active_leaf_id=created[-1].id, message_count=depth, updated_at=now)
    await statements.run(
        _conversation_update(frozenset(changes)),
        {"conversation_id": conversation.id, **{f"new_{k}": v for k, v in changes.items()}},
    )
    for name, value in changes.items():
        set_committed_value(conversation, name, value)  # as loaded, so no flush writes it again
    return created


async def settle_answer(
    session: AsyncSession | Statements,
    *,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
    content: str,
    status: str,
    input_tokens: int,
    output_tokens: int,
    blocks: list[dict[str, Any]] | None,
    model: str,
) -> bool:
    """Store a reserved answer's outcome and add its tokens to the conversation's total; returns False when
    the answer was settled already (its usage is accounted), True otherwise — also when the row is gone
    with its conversation, deleted mid-stream: the model call still happened and must be accounted.

    Only an answer still in progress is settled, so a turn is settled once even when a retry after a lost
    connection, or the recovery of a process taken for dead, meets the turn's own settle. Prepared table
    UPDATEs: every turn runs them (see storage.prepared); the token total is added in SQL, saturating at
    MAX_TOTAL_TOKENS. `blocks` None leaves the row's blocks as they are (a reserved answer has none).
    """
    statements = on(session)
    answer: dict[str, Any] = {
        "message_id": message_id,
        "content": content,
        "status": status,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
    }
    if blocks is not None:
        answer["blocks"] = blocks
    settled = await statements.run(_SETTLE_WITH_BLOCKS if blocks is not None else _SETTLE, answer)
    if not settled:
        still_there = await statements.first(_MESSAGE_EXISTS, {"message_id": message_id})
        return still_there is None
    added = min(max(input_tokens + output_tokens, 0), MAX_TOTAL_TOKENS)
    await statements.run(
        _ADD_TOKENS,
        {
            "conversation_id": conversation_id,
            "model": model,
            "added": added,
            "headroom": MAX_TOTAL_TOKENS - added,
        },
    )
    return True


def _settle_statement(*, with_blocks: bool) -> Prepared:
    values: dict[str, Any] = {
        "content": bindparam("content"),
        "status": bindparam("status"),
        "input_tokens": bindparam("input_tokens"),
        "output_tokens": bindparam("output_tokens"),
        "runner_id": None,
    }
    if with_blocks:
        values["blocks"] = bindparam("blocks")
    return Prepared(
        sql_update(MESSAGES)
        .where(MESSAGES.c.id == bindparam("message_id"), MESSAGES.c.status == "in_progress")
        .values(values)
    )


_SETTLE = _settle_statement(with_blocks=False)
_SETTLE_WITH_BLOCKS = _settle_statement(with_blocks=True)
_MESSAGE_EXISTS = Prepared(select(MESSAGES.c.id).where(MESSAGES.c.id == bindparam("message_id")))
# The total plus `added`, capped at MAX_TOTAL_TOKENS; never overflows: `headroom` (the cap less `added`)
# is compared before the addition.
_ADD_TOKENS = Prepared(
    sql_update(CONVERSATIONS)
    .where(CONVERSATIONS.c.id == bindparam("conversation_id"))
    .values(
        total_tokens=case(
            (CONVERSATIONS.c.total_tokens > bindparam("headroom", type_=BigInteger), MAX_TOTAL_TOKENS),
            else_=CONVERSATIONS.c.total_tokens + bindparam("added", type_=BigInteger),
        ),
        model=bindparam("model"),
    )
)


_INSERT_MESSAGES = Prepared(sql_insert(MESSAGES))  # every column a parameter, named as the column
_CONVERSATION_UPDATES: dict[frozenset[str], Prepared] = {}


def _conversation_update(columns: frozenset[str]) -> Prepared:
    """The UPDATE of a conversation's `columns` (parameters `new_<column>`), one per set of columns: an
    append changes three, or a few more when it names or flags the conversation."""
    found = _CONVERSATION_UPDATES.get(columns)
    if found is None:
        found = _CONVERSATION_UPDATES[columns] = Prepared(
            sql_update(CONVERSATIONS)
            .where(CONVERSATIONS.c.id == bindparam("conversation_id"))
            .values({c: bindparam(f"new_{c}") for c in sorted(columns)})
        )
    return found


def _row(message: Message) -> dict[str, Any]:
    return {column.key: getattr(message, column.key) for column in _MESSAGE_COLUMNS}


def _rank(severity: str | None) -> int:
    return Severity(severity).rank if severity in _SEVERITY_NAMES else 0


_SEVERITY_NAMES = frozenset(Severity)


def _unflagged() -> dict[str, Any]:
    return {
        "is_flagged": False,
        "severity": Severity.NONE.value,
        "injection_categories": {},
        "pii_categories": {},
        "action_taken": "allow",
    }


def _rolled_up_flag(conversation: Conversation, changes: dict[str, Any], severity: str) -> dict[str, Any]:
    """A conversation is flagged once any of its messages is, at the highest severity seen."""
    current = changes.get("max_severity", conversation.max_severity)
    highest = severity if _rank(severity) > _rank(current) else current
    return {"is_flagged": True, "max_severity": highest}


async def visible_history(session: AsyncSession | Statements, *, conversation: Conversation) -> list[Message]:
    """The messages on the path from the root to the active leaf, oldest first (in a direct transaction
    as transient instances, for reading)."""
    if conversation.active_leaf_id is None:
        return []
    return await path_to(session, conversation=conversation, leaf_id=conversation.active_leaf_id)


async def path_to(
    session: AsyncSession | Statements,
    *,
    conversation: Conversation,
    leaf_id: uuid.UUID,
    newest: int | None = None,
) -> list[Message]:
    """The messages from the root to `leaf_id`, oldest first; with `newest`, only that many of the newest.

    One recursive query walks the parent links, so other branches (edits, regenerations) are never read
    and a long conversation costs only the part asked for. The walk stays inside the conversation and
    stops at its depth, so corrupt links can neither leave it nor loop. In a direct transaction the
    messages come back as transient instances, for reading.
    """
    depth = conversation.message_count + 1  # no path is longer: sequence_index is a message's depth
    limit = depth if newest is None else min(newest, depth)
    params = {"leaf_id": leaf_id, "conversation_id": conversation.id, "limit": limit}
    if isinstance(session, AsyncSession):
        return list((await session.execute(_PATH, params)).scalars())
    return [_MESSAGE(row) for row in await session.fetch(_PATH_ROWS, params)]


def _path_statement(*, rows: bool = False) -> Any:
    """Built once: constructing this statement (and its cache key) on every call cost more than running it.
    `rows`: the messages' columns in table order (for `Loader`), not ORM entities."""
    conversation_id = bindparam("conversation_id", type_=Uuid)
    walk = (
        select(MESSAGES.c.id, MESSAGES.c.parent_id, literal(1, Integer).label("step"))
        .where(
            MESSAGES.c.id == bindparam("leaf_id", type_=Uuid), MESSAGES.c.conversation_id == conversation_id
        )
        .cte("walk", recursive=True)
    )
    parent = MESSAGES.alias("parent")
    walk = walk.union_all(
        select(parent.c.id, parent.c.parent_id, walk.c.step + 1).where(
            parent.c.id == walk.c.parent_id,
            parent.c.conversation_id == conversation_id,
            walk.c.step < bindparam("limit", type_=Integer),
        )
    )
    if rows:
        return select(*MESSAGES.columns).join(walk, MESSAGES.c.id == walk.c.id).order_by(walk.c.step.desc())
    return select(Message).join(walk, Message.id == walk.c.id).order_by(walk.c.step.desc())


_PATH = _path_statement()
_PATH_ROWS = Prepared(_path_statement(rows=True))


async def _message_in(
    session: AsyncSession | Statements, conversation: Conversation, message_id: uuid.UUID
) -> Message:
    message = await get_message(session, message_id)
    if message is None or message.conversation_id != conversation.id:
        raise NotFound("message not found", field="message")
    return message


async def get_message(session: AsyncSession | Statements, message_id: uuid.UUID) -> Message | None:
    """A message by id, of whichever conversation (the caller checks it is the one it means)."""
    if isinstance(session, AsyncSession):
        # session.get answers from the identity map when the row is already loaded (a regenerated answer
        # goes under a message of the history just read): one query fewer per turn.
        return await session.get(Message, message_id)
    row = await session.first(_MESSAGE_BY_ID, {"message_id": message_id})
    return None if row is None else _MESSAGE(row)


_MESSAGE_BY_ID = Prepared(select(*MESSAGES.columns).where(MESSAGES.c.id == bindparam("message_id")))


async def purge_expired(session: AsyncSession, *, batch_size: int = 500) -> int:
    """Delete up to `batch_size` expired conversations with their messages; returns how many."""
    ids = list(
        (
            await session.execute(
                select(Conversation.id)
                .where(Conversation.expires_at.is_not(None), Conversation.expires_at <= utcnow())
                .limit(batch_size)
            )
        ).scalars()
    )
    if ids:
        await session.execute(sql_delete(Message).where(Message.conversation_id.in_(ids)))
        await session.execute(sql_delete(Conversation).where(Conversation.id.in_(ids)))
    return len(ids)


async def fail_stale_turns(session: AsyncSession, *, older_than: timedelta) -> int:
    """Mark assistant rows still `in_progress` after `older_than` as failed; returns how many."""
    result = await session.execute(
        sql_update(Message)
        .where(Message.status == "in_progress", Message.created_at < utcnow() - older_than)
        .values(status="failed")
    )
    return int(getattr(result, "rowcount", 0) or 0)
