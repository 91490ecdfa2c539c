"""Time limits on a provider stream: one for the first event, one for the whole stream."""

from __future__ import annotations

import asyncio
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


class _Watchdog:
    """One timer per deadline (not one per event): when it fires while the stream is awaited, it cancels
    the awaiting task, as `asyncio.timeout` would; firing between events is noticed before the next wait.

    An `asyncio.timeout` block per event cost a streamed call about as much CPU as parsing its chunks.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._handle: asyncio.TimerHandle | None = None
        self.deadline = 0.0
        self.waiting: asyncio.Task[object] | None = None
        self.cancelled_waiting = False

    def arm(self, deadline: float) -> None:
        self.disarm()
        self.deadline = deadline
        self._handle = self._loop.call_at(deadline, self._fire)

    def disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        self._handle = None
        if self.waiting is not None:
            self.cancelled_waiting = True
            self.waiting.cancel()


async def with_deadlines(events: AsyncIterator[T], timeouts: Timeouts) -> AsyncIterator[T]:
    """Re-yield `events`, raising ProviderError("timeout") when a deadline passes.

    The timeout cancels the pending `__anext__` inside this task, so the inner generator's `finally`
    runs (aborting its upstream call) before the error reaches the caller. Closing this generator
    closes the inner one too.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    watchdog = _Watchdog(loop)
    first = True
    try:
        while True:
            limit = timeouts.first_token if first else timeouts.total
            deadline = started + limit
            if deadline != watchdog.deadline:  # twice per stream: the first-token, then the total deadline
                watchdog.arm(deadline)
            if loop.time() >= deadline:
                raise _timeout(first, limit)
            task = asyncio.current_task()
            assert task is not None
            cancelling = task.cancelling()
            watchdog.waiting = task
            try:
                item = await anext(events)
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                # Ours only if the watchdog cancelled the wait and nobody else asked for a cancel too.
                if watchdog.cancelled_waiting and task.uncancel() <= cancelling:
                    raise _timeout(first, limit) from None
                raise
            finally:
                watchdog.waiting = None
            first = False
            yield item
    finally:
        watchdog.disarm()
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


def _timeout(first: bool, limit: float) -> ProviderError:
    what = "the first token" if first else "the model's answer"
    return ProviderError("timeout", f"no {what} within {limit:g} s")
