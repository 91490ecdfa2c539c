"""CPU work on text a caller chose (scanning, token counting) runs here: off the event loop, a few at a
time, so one tenant's large request cannot stall everyone else's.

Small inputs run inline: a thread hop costs more than scanning a few kilobytes, and such work is bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio

T = TypeVar("T")

# Below this many characters of input, the work runs on the event loop (it takes well under a millisecond).
INLINE_CHARS = 8_000
# Jobs running at once in this process; more wait their turn instead of crowding out everything else.
_WORKERS = anyio.CapacityLimiter(2)


async def run_bounded(size: int, fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)`, inline when `size` (characters of input) is small, else in the worker pool."""
    if size <= INLINE_CHARS:
        return fn(*args)
    return await anyio.to_thread.run_sync(fn, *args, limiter=_WORKERS)
