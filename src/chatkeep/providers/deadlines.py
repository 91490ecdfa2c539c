"""Time limits on a provider stream: one for the first event, one for the whole stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TypeVar

from chatkeep.providers.base import ProviderError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for the first event (queueing and prompt processing included) and for all of it."""

    first_token: float = 60.0
    total: float = 120.0


async def with_deadlines(events: AsyncIterator[T], timeouts: Timeouts) -> AsyncIterator[T]:
    """Re-yield `events`, raising ProviderError("timeout") when a deadline passes.

    The timeout cancels the pending `__anext__` inside this task, so the inner generator's `finally`
    runs (aborting its upstream call) before the error reaches the caller. Closing this generator
    closes the inner one too.
    """
    started = time.monotonic()
    first = True
    try:
        while True:
            limit = timeouts.first_token if first else timeouts.total
            remaining = limit - (time.monotonic() - started)
            try:
                async with asyncio.timeout(max(remaining, 0.0)):
                    item = await anext(events)
            except StopAsyncIteration:
                return
            except TimeoutError:
                what = "the first token" if first else "the model's answer"
                raise ProviderError("timeout", f"no {what} within {limit:g} s") from None
            first = False
            yield item
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
