"""CPU work on text a caller chose runs here, so one tenant's large request cannot stall everyone else's.

Three pools, by what the work is:
- scanning (pure Python: regular expressions, normalisation) runs in worker *processes*: in a thread it
  would hold the interpreter lock and slow every other request on the event loop;
- parsing large request bodies runs in a process of its own: no JSON parser releases the interpreter lock
  (20 MB take ~30 ms), and a body waiting behind a long scan would hold up a normal request;
- token counting (tokenizers that release the interpreter lock) runs in a few threads.
Small inputs run inline: a hop costs more than working on a few kilobytes, and such work is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
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
# Bodies up to this many bytes are parsed (and checked) on the event loop: usually well under a
# millisecond, ~12 ms at worst (a dense list of 16k numbers).
INLINE_BODY_BYTES = 32 * 1024
# Counting jobs running at once in this process; more wait their turn.
_THREADS = anyio.CapacityLimiter(2)
# Scanning processes: leave a core to the event loop.
_PROCESSES = max(1, min(4, (os.cpu_count() or 2) - 1))
# Added to the worker processes' niceness (see _start_worker).
WORKER_NICENESS = 10
_pool: ProcessPoolExecutor | None = None
_parse_pool: ProcessPoolExecutor | None = None


def start() -> None:
    """Start the worker processes now rather than on the first large input (the scanning ones import the
    guards).

    Each pool serves the whole server process, however many apps it builds (tests build many); it ends
    with the process.
    """
    _process_pool().submit(_ready).result()
    _parsing_pool().submit(int).result()


def _start_worker(parent: int) -> None:
    """In a worker process: yield the CPU to the server process, and die with it."""
    # On a busy machine the event loop, which answers every request, gets the CPU before one request's
    # scan or parse does (niceness only ever goes up, so a failure here is ignored).
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    _die_with(parent)


def _die_with(parent: int) -> None:
    """Exit as soon as the server process is gone, however it ended (a killed server runs no clean-up,
    and an orphan would hold its output pipes and memory)."""

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
        _pool = _spawn(_PROCESSES)
    return _pool


def _parsing_pool() -> ProcessPoolExecutor:
    global _parse_pool
    if _parse_pool is None:
        _parse_pool = _spawn(1)
    return _parse_pool


def _spawn(processes: int) -> ProcessPoolExecutor:
    # spawn, not fork: the server's process has threads and an event loop that a fork would copy.
    return ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )


async def run_scan(size: int, fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` (a module-level function with picklable arguments), inline when `size` (characters of
    input) is small, else in a scanning process."""
    if size <= INLINE_CHARS:
        return fn(*args)
    return await asyncio.get_running_loop().run_in_executor(_process_pool(), fn, *args)


async def run_parse(size: int, fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` (a module-level function parsing `size` bytes of a request body), inline when the body
    is small, else in the parsing process. Its exceptions are raised here as they were raised there."""
    if size <= INLINE_BODY_BYTES:
        return fn(*args)
    return await asyncio.get_running_loop().run_in_executor(_parsing_pool(), fn, *args)


async def run_count(size: int, fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)`, inline when `size` is small, else in a counting thread."""
    if size <= INLINE_CHARS:
        return fn(*args)
    return await anyio.to_thread.run_sync(fn, *args, limiter=_THREADS)
