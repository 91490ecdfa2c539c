"""The calls the core makes so operators can see its work: each records metrics and, when tracing is on,
a span. Every function here passes its subject through unchanged. (A turn's events: `turn_observer`.)

    observe.model_call(events, provider=…, …)   a provider's stream: the upstream span
    observe.screening(work); observe.verdicts(…)  a guard screening: its span, its verdicts' categories
                                                and actions
    observe.refused(limit)                      a request refused by an organisation limit
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterable
from typing import Any, TypeVar

from chatkeep.guards import GuardVerdict
from chatkeep.observability import metrics, tracing

E = TypeVar("E")
T = TypeVar("T")


def model_call(events: AsyncIterator[E], *, provider: str, model: str) -> AsyncIterator[E]:
    """A provider's event stream, inside an upstream span when tracing is on (else `events` itself)."""
    if not tracing.enabled():
        return events
    return tracing.spanned_stream(
        events, "chatkeep.model_call", {"chatkeep.provider": provider, "gen_ai.request.model": model}
    )


async def screening(work: Awaitable[T]) -> T:
    """Await a guard screening (run inline or in a scanning process), inside a span when tracing is on."""
    if not tracing.enabled():
        return await work
    with tracing.span("chatkeep.guards.scan"):
        return await work


def verdicts(found: Iterable[GuardVerdict | None]) -> None:
    """Count the verdicts of a turn's screened messages (None: nothing to scan in that message)."""
    for verdict in found:
        if verdict is not None:
            _count({**verdict.injection_categories, **verdict.pii_categories}, verdict.action)


def stored_verdicts(safety: Iterable[dict[str, Any]]) -> None:
    """Count the verdicts of messages screened for storage, from the safety fields stored with them."""
    for fields in safety:
        if "action_taken" in fields:
            categories = {**fields.get("injection_categories", {}), **fields.get("pii_categories", {})}
            _count(categories, str(fields["action_taken"]))


def _count(categories: dict[str, str], action: str) -> None:
    for category in categories or ("none",):
        metrics.GUARD_VERDICTS.labels(category, action).inc()


def refused(limit: str) -> None:
    """Count a request refused by the organisation limit named `limit`."""
    metrics.LIMIT_REFUSALS.labels(limit).inc()
