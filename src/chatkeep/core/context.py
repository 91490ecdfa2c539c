"""Assembling what a model sees: system prompt plus history, trimmed to the model's window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chatkeep.core.errors import InvalidInput
from chatkeep.providers.base import ChatMessage

# Chat templates add a few tokens of framing per message; counted so trimming errs on the safe side.
PER_MESSAGE_OVERHEAD = 4


@dataclass(frozen=True, slots=True)
class Context:
    system: str | None
    messages: tuple[ChatMessage, ...]
    input_tokens: int
    max_tokens: int
    dropped: int


def fit_to_window(
    *,
    system: str | None,
    history: list[ChatMessage],
    context_window: int,
    max_tokens: int,
    count: Callable[[str], int],
) -> Context:
    """Drop the oldest non-system turns until the prompt fits, keeping at least the newest message.

    The output reserve is `max_tokens`, but never more than half the window: a long history on a
    small model shrinks the answer budget rather than failing.
    """
    reserve = min(max_tokens, context_window // 2)
    budget = context_window - reserve
    system_cost = count(system) + PER_MESSAGE_OVERHEAD if system else 0
    costs = [count(m.text) + PER_MESSAGE_OVERHEAD for m in history]
    total = system_cost + sum(costs)
    start = 0
    # Keep the newest message whatever it costs; drop from the front.
    while total > budget and start < len(history) - 1:
        total -= costs[start]
        start += 1
    if total > context_window - 1:
        raise InvalidInput(
            f"the message is too long for this model's context window ({context_window} tokens)",
            field="messages",
        )
    return Context(
        system=system,
        messages=tuple(history[start:]),
        input_tokens=total,
        max_tokens=max(1, min(max_tokens, context_window - total)),
        dropped=start,
    )
