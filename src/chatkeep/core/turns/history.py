"""What of a conversation's past a model sees: which stored messages are replayed, and how much is read."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Literal, cast

from chatkeep.core import conversations
from chatkeep.core.content import json_to_blocks
from chatkeep.core.context import PER_MESSAGE_OVERHEAD
from chatkeep.core.workers import run_count
from chatkeep.guards import Severity
from chatkeep.providers.base import ChatMessage, ModelInfo
from chatkeep.storage.database import Database
from chatkeep.storage.models import Conversation, Message

HISTORY_PAGE = 32  # history messages read with the input, under the write lock; more are read after it

_SERIOUS = frozenset(s.value for s in Severity if s.rank >= Severity.MEDIUM.rank)


def is_replayable(message: Message) -> bool:
    """False for rows a model must not see again: unfinished or empty failed answers, blocked input,
    and messages flagged as prompt injection at medium severity or above."""
    if message.status == "in_progress" or (message.status == "failed" and not message.content):
        return False
    if message.action_taken == "block":
        return False
    return not (message.injection_categories and message.severity in _SERIOUS)


def replayable(history: Sequence[Message]) -> list[ChatMessage]:
    """The visible history as provider messages. The newest message is kept unless it was blocked: it is
    the input the guards just let through (a flagged-but-allowed message is excluded only from later
    turns); a blocked one never reaches a model, even as the message a regeneration answers."""
    newest = [m for m in history[-1:] if m.action_taken != "block"]
    kept = [m for m in history[:-1] if is_replayable(m)] + newest
    return [
        ChatMessage(
            role=cast(Literal["user", "assistant", "system", "tool"], m.role),
            content=json_to_blocks(m.content, m.blocks),
        )
        for m in kept
    ]


async def recent_path(
    db: Database,
    conversation: Conversation,
    leaf_id: uuid.UUID,
    model: ModelInfo,
    count: Callable[[str], int],
    path: list[Message],
) -> list[Message]:
    """The newest part of the path to `leaf_id` that could fit `model`'s window (fit_to_window trims it
    exactly): `path`, its newest HISTORY_PAGE messages already read, grown from the leaf in pages four
    times larger."""
    asked, cost, counted = HISTORY_PAGE, 0, 0
    while True:
        older = [m for m in path[: len(path) - counted] if is_replayable(m)]
        cost += await run_count(
            sum(len(m.content) for m in older),
            lambda older=older: sum(count(m.content) + PER_MESSAGE_OVERHEAD for m in older),
        )
        counted = len(path)
        if counted < asked or cost > model.context_window:  # the whole path, or more than fits
            return path
        asked *= 4
        async with db.direct_read() as session:
            path = await conversations.path_to(
                session, conversation=conversation, leaf_id=leaf_id, newest=asked
            )
