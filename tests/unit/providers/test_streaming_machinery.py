"""The pieces under every provider stream: thread bridge, deadlines, stop-string scanning."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

import pytest

from chatkeep.providers.base import ProviderError
from chatkeep.providers.deadlines import Timeouts, with_deadlines
from chatkeep.providers.embedded.generation import StopScanner
from chatkeep.providers.threaded import ProducerContext, stream_from_thread


async def test_thread_items_arrive_in_order() -> None:
    def produce(ctx: ProducerContext[int]) -> None:
        for i in range(50):
            ctx.emit(i)

    assert [i async for i in stream_from_thread(produce)] == list(range(50))


async def test_thread_exception_is_raised_to_the_consumer() -> None:
    def produce(ctx: ProducerContext[int]) -> None:
        ctx.emit(1)
        raise ValueError("boom")

    seen = []
    with pytest.raises(ValueError, match="boom"):
        async for item in stream_from_thread(produce):
            seen.append(item)
    assert seen == [1]


async def test_closing_early_stops_the_thread_before_aclose_returns() -> None:
    returned = threading.Event()
    stopped_hook = []

    def produce(ctx: ProducerContext[int]) -> None:
        try:
            i = 0
            while True:
                ctx.emit(i)  # raises Stopped once the consumer has gone
                i += 1
                time.sleep(0.005)
        finally:
            returned.set()

    items = stream_from_thread(produce, on_stop=lambda: stopped_hook.append(True))
    async for item in items:
        if item == 3:
            break
    await items.aclose()  # type: ignore[attr-defined]
    assert returned.is_set(), "aclose returned while the worker thread was still running"
    assert stopped_hook == [True]


async def test_on_stop_is_not_called_after_a_normal_end() -> None:
    calls = []
    items = [i async for i in stream_from_thread(lambda ctx: ctx.emit(1), on_stop=lambda: calls.append(1))]
    assert items == [1] and calls == []


async def _slow(first: float, then: float, count: int = 3) -> AsyncIterator[int]:
    await asyncio.sleep(first)
    for i in range(count):
        yield i
        await asyncio.sleep(then)


async def test_first_token_deadline() -> None:
    closed = []

    async def slow() -> AsyncIterator[int]:
        try:
            await asyncio.sleep(5)
            yield 1
        finally:
            closed.append(True)

    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        [i async for i in with_deadlines(slow(), Timeouts(first_token=0.05, total=10))]
    assert caught.value.kind == "timeout" and "first token" in caught.value.message
    assert time.monotonic() - started < 1
    assert closed == [True], "the inner stream was not closed on timeout"


async def test_total_deadline_keeps_what_arrived() -> None:
    seen = []
    with pytest.raises(ProviderError) as caught:
        async for item in with_deadlines(_slow(0, 0.1, count=100), Timeouts(first_token=1, total=0.25)):
            seen.append(item)
    assert caught.value.kind == "timeout"
    assert 1 <= len(seen) < 100


async def test_deadlines_pass_a_quick_stream_through() -> None:
    assert [i async for i in with_deadlines(_slow(0, 0), Timeouts(first_token=1, total=1))] == [0, 1, 2]


@pytest.mark.parametrize(
    ("pieces", "stops", "emitted", "hit"),
    [
        (["Hello", " world"], [], "Hello world", False),
        (["Hello EN", "D there"], ["END"], "Hello ", True),
        (["abc<", "|im", "_end|>tail"], ["<|im_end|>"], "abc", True),
        (["a<", "b"], ["<|"], "a<b", False),  # a held-back prefix is released when it turns out not to match
        (["x##", "#y"], ["###"], "x", True),
    ],
)
def test_stop_scanner(pieces: list[str], stops: list[str], emitted: str, hit: bool) -> None:
    scanner = StopScanner(stops)
    out = "".join(scanner.feed(p) for p in pieces) + scanner.flush()
    assert out == emitted
    assert scanner.hit is hit


def test_stop_scanner_holds_back_only_possible_prefixes() -> None:
    scanner = StopScanner(["STOP"])
    assert scanner.feed("abc ST") == "abc "
    assert scanner.feed("ART") == "START"


async def test_a_cancel_from_outside_stays_a_cancel() -> None:
    started = asyncio.Event()

    async def consume() -> None:
        async for _ in with_deadlines(_slow(5, 0), Timeouts(first_token=10, total=10)):
            pass

    async def watch() -> None:
        started.set()
        await consume()

    task = asyncio.create_task(watch())
    await started.wait()
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_deadline_passed_between_events_is_raised_before_the_next_wait() -> None:
    seen = []
    with pytest.raises(ProviderError) as caught:
        async for item in with_deadlines(_slow(0, 0, count=5), Timeouts(first_token=1, total=0.05)):
            seen.append(item)
            time.sleep(0.06)  # noqa: ASYNC251  (the consumer is busy past the deadline, blocking on purpose)
    assert caught.value.kind == "timeout" and seen == [0]


async def test_a_first_token_deadline_passing_after_the_first_token_is_not_a_timeout() -> None:
    """The first token came in time; its deadline then passed while the consumer held that token. The
    stream goes on under the total deadline."""
    received = []
    async for item in with_deadlines(_slow(0, 0, count=3), Timeouts(first_token=0.05, total=5)):
        received.append(item)
        if item == 0:
            await asyncio.sleep(0.1)  # past the first-token deadline, between events
    assert received == [0, 1, 2]
