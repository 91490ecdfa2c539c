"""Time limits on a provider stream: one for the first event, one for the whole stream."""

from __future__ import annotations

import asyncio
import math
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


class Expired(Exception):
    """The watchdog's deadline passed, or it was interrupted, before the stream's next event came."""


class Watchdog:
    """Cuts short the wait for a stream's next event: when its deadline passes, or on `interrupt()`.

    One timer per deadline, not one per event: an `asyncio.timeout` block per event cost a streamed call
    about as much CPU as parsing its chunks. Like `asyncio.timeout`, it cancels the waiting task and turns
    that cancellation (and only that one) into `Expired`; a deadline passed or an interrupt made between
    events is raised before the next wait.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._handle: asyncio.TimerHandle | None = None
        self.deadline = math.inf
        self._waiting: asyncio.Task[object] | None = None
        self._fired = False  # the armed deadline passed (a new deadline clears it)
        self._interrupted = False  # for good

    def arm(self, deadline: float) -> None:
        """Expire at `deadline` (the loop's clock) instead of the deadline armed before, even one that
        already passed between events."""
        self.disarm()
        self._fired = False
        self.deadline = deadline
        self._handle = self._loop.call_at(deadline, self._fire)

    def disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def interrupt(self) -> None:
        """Expire now and for good: the wait under way, or else the next one, raises Expired."""
        self.disarm()
        self._interrupted = True
        self._fire()

    async def next(self, events: AsyncIterator[T]) -> T:
        """The next item of `events`; Expired if the watchdog expired before or during the wait."""
        if self._fired or self._interrupted or self._loop.time() >= self.deadline:
            raise Expired
        task = asyncio.current_task()
        assert task is not None
        cancelling = task.cancelling()
        self._waiting = task
        try:
            return await anext(events)
        except asyncio.CancelledError:
            # Ours only if the watchdog cancelled the wait and nobody else asked for a cancel too.
            if self._fired and task.uncancel() <= cancelling:
                raise Expired from None
            raise
        finally:
            self._waiting = None

    def _fire(self) -> None:
        self._handle = None
        self._fired = True
        if self._waiting is not None:
            self._waiting.cancel()


async def with_deadlines(events: AsyncIterator[T], timeouts: Timeouts) -> AsyncIterator[T]:
    """Re-yield `events`, raising ProviderError("timeout") when a deadline passes.

    The timeout cancels the pending `__anext__` inside this task, so the inner generator's `finally`
    runs (aborting its upstream call) before the error reaches the caller. Closing this generator
    closes the inner one too.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    watchdog = Watchdog(loop)
    first = True
    try:
        while True:
            limit = timeouts.first_token if first else timeouts.total
            deadline = started + limit
            if deadline != watchdog.deadline:  # twice per stream: the first-token, then the total deadline
                watchdog.arm(deadline)
            try:
                item = await watchdog.next(events)
            except StopAsyncIteration:
                return
            except Expired:
                raise _timeout(first, limit) from None
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
