"""Metrics of a turn, read off its event stream: duration, time to first token, gaps between tokens,
tokens by organisation and model, open streams, and failures by kind.

Kept apart from `observe` because it reads the core's turn events: `observe` is imported by core modules
that load before the turn package, and must not import the core back.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator

from chatkeep.core.turns.events import TurnDone, TurnEvent, TurnFailed
from chatkeep.observability import metrics, request_context
from chatkeep.providers.base import TextDelta, ToolCall


async def watch(events: AsyncIterator[TurnEvent], *, org: str, model: str) -> AsyncGenerator[TurnEvent, None]:
    """Pass a turn's events through, timing them.

    Time to first token counts from the request's arrival when there is one (what the user waits), else
    from the stream's start. Closing this stream closes `events`, so the turn still settles its rows.
    """
    started = time.perf_counter()
    facts = request_context.current()
    arrived = facts.arrived if facts is not None else started
    last_text: float | None = None
    first_seen = False
    outcome = "cancelled"
    gaps = metrics.INTER_TOKEN_GAP.labels(model)  # looked up once: it is observed on every delta
    metrics.OPEN_STREAMS.inc()
    try:
        async for event in events:
            if isinstance(event, TextDelta | ToolCall):
                now = time.perf_counter()
                if not first_seen:
                    first_seen = True
                    metrics.TIME_TO_FIRST_TOKEN.labels(model).observe(now - arrived)
                elif last_text is not None and isinstance(event, TextDelta):
                    gaps.observe(now - last_text)
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
        metrics.OPEN_STREAMS.dec()
        metrics.TURN_DURATION.labels(model).observe(time.perf_counter() - started)
        metrics.TURNS.labels(model, outcome).inc()
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
