"""Database pool metrics: connections in use, and connection requests that had to wait for one."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from chatkeep.observability import metrics


def watch(engine: AsyncEngine) -> None:
    """Count `engine`'s pooled connections in use (pool events) and the waits for a free one."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkout")
    def _checked_out(*_: Any) -> None:
        metrics.DB_POOL_IN_USE.inc()

    @event.listens_for(pool, "checkin")
    def _checked_in(*_: Any) -> None:
        metrics.DB_POOL_IN_USE.dec()

    if isinstance(pool, QueuePool):
        _time_waits(pool)


def _time_waits(pool: QueuePool) -> None:
    """Time the requests that find every connection busy.

    SQLAlchemy emits no event before a checkout, so the pool's `_do_get` (the hook its pool classes
    implement to hand out a connection) is wrapped on this one pool instance. A request waits when no
    connection is idle and the overflow is used up.
    """
    hand_out = pool._do_get
    limit = pool.size() + max(pool._max_overflow, 0)
    unbounded = pool._max_overflow < 0

    def _do_get() -> Any:
        if unbounded or pool.checkedout() < limit:
            return hand_out()
        started = time.perf_counter()
        try:
            return hand_out()
        finally:
            metrics.DB_POOL_WAITS.inc()
            metrics.DB_POOL_WAIT_SECONDS.observe(time.perf_counter() - started)

    pool._do_get = _do_get  # type: ignore[method-assign]
