"""CPU work on text a caller chose runs here, so one tenant's large request cannot stall everyone else's.

Two pools, by what the work is:
- scanning (pure Python: regular expressions, normalisation) runs in worker *processes*: in a thread it
  would hold the interpreter lock and slow every other request on the event loop;
- token counting (tokenizers that release the interpreter lock) runs in a few threads.
Small inputs run inline: a hop costs more than working on a few kilobytes, and such work is bounded.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

import anyio

T = TypeVar("T")

# Below this many characters of input, the work runs on the event loop (it takes well under a millisecond).
INLINE_CHARS = 8_000
# Counting jobs running at once in this process; more wait their turn.
_THREADS = anyio.CapacityLimiter(2)
# Scanning processes: leave a core to the event loop.
_PROCESSES = max(1, min(4, (os.cpu_count() or 2) - 1))
_pool: ProcessPoolExecutor | None = None


def start() -> None:
    """Start the scanning processes now rather than on the first large input (they import the guards).

    One pool serves the whole server process, however many apps it builds (tests build many); it ends
    with the process.
    """
    _process_pool().submit(_ready).result()


def _die_with(parent: int) -> None:
    """In a scanning process: exit as soon as the server process is gone, however it ended (a killed
    server runs no clean-up, and an orphan would hold its output pipes and memory)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="chatkeep-parent-watch", daemon=True).start()


def _ready() -> bool:
    import chatkeep.core.screening  # noqa: F401 (what the scanning jobs need, imported once per process)

    return True


def _process_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: the server's process has threads and an event loop that a fork would copy.
        _pool = ProcessPoolExecutor(
            _PROCESSES,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_die_with,
            initargs=(os.getpid(),),
        )
    return _pool


async def run_scan(size: int, fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` (a module-level function with picklable arguments), inline when `size` (characters of
    input) is small, else in a scanning process."""
    if size <= INLINE_CHARS:
        return fn(*args)
    return await asyncio.get_running_loop().run_in_executor(_process_pool(), fn, *args)


async def run_count(size: int, fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)`, inline when `size` is small, else in a counting thread."""
    if size <= INLINE_CHARS:
        return fn(*args)
    return await anyio.to_thread.run_sync(fn, *args, limiter=_THREADS)
