"""Which stored messages are replayed to a model, and in what form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, cast

from chatkeep.core.content import json_to_blocks
from chatkeep.providers.base import ChatMessage
from chatkeep.storage.models import Message

_SERIOUS = frozenset({"medium", "high", "critical"})


def is_replayable(message: Message) -> bool:
    """False for rows a model must not see again: unfinished or empty failed answers, blocked input,
    and messages flagged as prompt injection at medium severity or above."""
    if message.status == "in_progress" or (message.status == "failed" and not message.content):
        return False
    if message.action_taken == "block":
        return False
    return not (message.injection_categories and message.severity in _SERIOUS)


def replayable(history: Sequence[Message]) -> list[ChatMessage]:
    """The visible history as provider messages. The newest message is always kept: it is the input the
    guards just let through (a flagged-but-allowed message is excluded only from later turns)."""
    kept = [m for m in history[:-1] if is_replayable(m)] + list(history[-1:])
    return [
        ChatMessage(
            role=cast(Literal["user", "assistant", "system", "tool"], m.role),
            content=json_to_blocks(m.content, m.blocks),
        )
        for m in kept
    ]
