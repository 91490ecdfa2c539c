"""Run a blocking producer in a worker thread and hand what it produces to the event loop.

Used by the providers whose libraries block (llama-cpp-python, boto3). The producer gets an `emit`
function; each emitted item is passed to the loop with `call_soon_threadsafe` into an asyncio.Queue.
When the consumer stops early (aclose, task cancel), a stop flag is set: the producer's next `emit`
raises `Stopped`, and `stopped.is_set()` lets it check between steps that emit nothing. The async
side waits for the worker to return before its `finally` ends, so whoever holds a lock around the
stream keeps it until the thread is really done.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import Executor
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_ITEM, _END, _ERROR = "item", "end", "error"


class Stopped(Exception):
    """Raised inside the producer when the consumer has gone; the producer should just return."""


class ProducerContext(Generic[T]):
    """What a producer receives: `emit(item)` and the `stopped` flag."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[tuple[str, Any]]) -> None:
        self._loop = loop
        self._queue = queue
        self.stopped = threading.Event()

    def emit(self, item: T) -> None:
        """Send one item to the consumer; raises Stopped once the consumer has gone."""
        if self.stopped.is_set():
            raise Stopped
        self._post(_ITEM, item)

    def _post(self, tag: str, value: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening any more
            self._loop.call_soon_threadsafe(self._queue.put_nowait, (tag, value))


async def stream_from_thread(
    produce: Callable[[ProducerContext[T]], None],
    *,
    executor: Executor | None = None,
    on_stop: Callable[[], None] | None = None,
) -> AsyncGenerator[T, None]:
    """Yield what `produce` emits from a worker thread; its exceptions are re-raised here.

    `on_stop` is called (on the loop) when the consumer leaves early, e.g. to close a socket the
    producer is blocked on.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    context: ProducerContext[T] = ProducerContext(loop, queue)

    def run() -> None:
        try:
            produce(context)
        except Stopped:
            pass
        except BaseException as exc:
            context._post(_ERROR, exc)
            return
        context._post(_END, None)

    worker = loop.run_in_executor(executor, run)
    finished = False
    try:
        while True:
            tag, value = await queue.get()
            if tag == _END:
                finished = True
                return
            if tag == _ERROR:
                finished = True
                raise value
            yield value
    finally:
        if not finished:
            context.stopped.set()
            if on_stop is not None:
                with contextlib.suppress(Exception):
                    on_stop()
        # Wait for the thread to return, so a lock held around this stream outlives the work.
        # shield: a cancelled consumer must not cancel the wait (the thread cannot be cancelled).
        await asyncio.shield(worker)
