"""Metrics of a turn, read off its event stream: duration, time to first token, gaps between tokens,
tokens by organisation and model, open streams, and failures by kind.

Kept apart from `observe` because it reads the core's turn events: `observe` is imported by core modules
that load before the turn package, and must not import the core back.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import AsyncGenerator, AsyncIterator

from prometheus_client import Histogram

from chatkeep.core.turns.events import TurnDone, TurnEvent, TurnFailed
from chatkeep.observability import metrics, request_context
from chatkeep.providers.base import TextDelta, ToolCall

GAPS_ADDED_EVERY = 1.0  # seconds: how stale a running stream's gaps may be in a scrape


async def watch(events: AsyncIterator[TurnEvent], *, org: str, model: str) -> AsyncGenerator[TurnEvent, None]:
    """Pass a turn's events through, timing them.

    Time to first token counts from the request's arrival when there is one (what the user waits), else
    from the stream's start. Closing this stream closes `events`, so the turn still settles its rows.
    """
    started = time.perf_counter()
    facts = request_context.current()
    arrived = facts.arrived if facts is not None else started
    last_text: float | None = None  # when the last text or tool call came
    outcome = "cancelled"
    gaps = _Gaps(metrics.INTER_TOKEN_GAP.labels(model), started)
    metrics.OPEN_STREAMS.inc()
    try:
        async for event in events:
            if isinstance(event, TextDelta):  # nearly every event: tested first
                now = time.perf_counter()
                if last_text is None:
                    metrics.TIME_TO_FIRST_TOKEN.labels(model).observe(now - arrived)
                else:
                    gaps.add(now - last_text, now)
                last_text = now
            elif isinstance(event, ToolCall):
                now = time.perf_counter()
                if last_text is None:
                    metrics.TIME_TO_FIRST_TOKEN.labels(model).observe(now - arrived)
                last_text = now
            elif isinstance(event, TurnDone):
                outcome = "complete"
                metrics.MODEL_TOKENS.labels(org, model, "input").inc(event.input_tokens)
                metrics.MODEL_TOKENS.labels(org, model, "output").inc(event.output_tokens)
            elif isinstance(event, TurnFailed):
                outcome = "failed"
                metrics.UPSTREAM_ERRORS.labels(model, event.kind).inc()
            yield event
    finally:
        gaps.flush(time.perf_counter())
        metrics.OPEN_STREAMS.dec()
        metrics.TURN_DURATION.labels(model).observe(time.perf_counter() - started)
        metrics.TURNS.labels(model, outcome).inc()
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


class _Gaps:
    """One stream's gaps between tokens, counted here and added to the histogram about once a second and
    when the stream ends, as the same bucket counts and sum that observing each gap would add.

    `Histogram.observe` takes two locks per call, a good part of what a streamed frame cost chatkeep's own
    code; this reads the histogram's bucket bounds and adds to its bucket and sum values (attributes of
    prometheus-client that are not public API; tests/unit/observability checks the counts in a scrape).
    """

    __slots__ = ("_bounds", "_counts", "_due", "_histogram", "_sum")

    def __init__(self, histogram: Histogram, now: float) -> None:
        self._histogram = histogram
        self._bounds: list[float] = list(histogram._upper_bounds)
        self._counts = [0] * len(self._bounds)
        self._sum = 0.0
        self._due = now + GAPS_ADDED_EVERY

    def add(self, gap: float, now: float) -> None:
        """Count one gap (seconds); `now` is the clock `watch` read for it."""
        self._sum += gap
        # The first bucket whose upper bound is >= gap, as `observe` picks it; the last bound is +Inf.
        self._counts[bisect_left(self._bounds, gap)] += 1
        if now >= self._due:
            self.flush(now)

    def flush(self, now: float) -> None:
        """Add the gaps counted since the last flush to the histogram."""
        self._due = now + GAPS_ADDED_EVERY
        if not any(self._counts):
            return
        buckets = self._histogram._buckets
        for i, count in enumerate(self._counts):
            if count:
                buckets[i].inc(count)
                self._counts[i] = 0
        self._histogram._sum.inc(self._sum)
        self._sum = 0.0
