"""Settles that met an unavailable database, retried in the background until the database is back.

A turn whose settle fails because the database cannot be reached still tells its client (a failure
event: the answer could not be stored yet); its answer and usage wait here, in memory, and are stored as
soon as the database answers again. Should this process die first, its checkpointed answer is recovered
as `failed` with usage for what was checkpointed (see `recovery`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import exc as sa_exc

log = logging.getLogger("chatkeep.turns")

# What an unreachable, restarting or saturated database raises (a bug raises something else, and is not
# retried forever).
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
    OSError,
    TimeoutError,
)


class SettleRetries:
    """Pending settles, each retried with a growing pause (up to `max_pause` seconds) until it succeeds."""

    def __init__(self, *, first_pause: float = 0.5, max_pause: float = 5.0) -> None:
        self._first_pause = first_pause
        self._max_pause = max_pause
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def add(self, settle: Callable[[], Awaitable[object]], what: str) -> None:
        """Retry `settle` (which raised one of DATABASE_UNAVAILABLE) until it succeeds."""
        task = asyncio.create_task(self._retry(settle, what))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _retry(self, settle: Callable[[], Awaitable[object]], what: str) -> None:
        pause = self._first_pause
        attempts = 1
        while True:
            await asyncio.sleep(pause)
            attempts += 1
            try:
                await settle()
            except DATABASE_UNAVAILABLE as exc:
                pause = min(pause * 2, self._max_pause)
                log.debug("settling %s failed again (%s); retrying", what, type(exc).__name__)
                continue
            except Exception:
                log.exception("settling %s failed; giving up", what)
                return
            log.warning("settled %s after %d attempts (the database was unavailable)", what, attempts)
            return

    async def drain(self, within: float) -> int:
        """Give pending settles up to `within` seconds to finish (on shutdown); returns how many did not."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=within)
        left = list(self._tasks)
        for task in left:
            task.cancel()
        return len(left)
