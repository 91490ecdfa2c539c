"""Fixed-window hit counters: in this process, or in Redis so that every replica shares them.

A counter only counts; the caller decides the window (its start names it) and what the count means.
"""

from __future__ import annotations

from typing import Protocol

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

# A limiter must not make requests slow when Redis is slow: give up quickly and let the caller decide.
_REDIS_TIMEOUT_SECONDS = 0.5


class CounterUnavailable(Exception):
    """The counter's backend could not be reached; the hit was not counted."""


class WindowCounter(Protocol):
    """Counts hits per key within one fixed window."""

    async def hit(self, key: str, *, window_start: int, ttl: int) -> int:
        """Count one hit for `key` in the window starting at `window_start` (epoch seconds) and return the
        window's count including this hit. `ttl` (seconds) is how long the window's count must be kept.
        Raises CounterUnavailable when the backend cannot be reached."""
        ...

    async def aclose(self) -> None:
        """Release connections; the counter is not used afterwards."""
        ...


class InProcessCounter:
    """Counts in this process only: right for a single server process, not for replicas or workers > 1."""

    def __init__(self) -> None:
        # Only the newest window per key is kept, so memory stays one entry per key (per organisation).
        self._windows: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, *, window_start: int, ttl: int) -> int:
        start, count = self._windows.get(key, (window_start, 0))
        if start != window_start:
            count = 0
        self._windows[key] = (window_start, count + 1)
        return count + 1

    async def aclose(self) -> None:
        self._windows.clear()


class RedisCounter:
    """Counts in Redis, shared by every process using the same server and prefix.

    Keys are `{prefix}:{key}:{window_start}`; INCR and EXPIRE run in one MULTI/EXEC transaction, so a
    window's key never lives without an expiry, whatever the number of replicas.
    """

    def __init__(self, url: str, *, prefix: str) -> None:
        self.prefix = prefix
        self._redis = Redis.from_url(
            url,
            socket_timeout=_REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), retries=1),
        )

    def key_for(self, key: str, window_start: int) -> str:
        return f"{self.prefix}:{key}:{window_start}"

    async def hit(self, key: str, *, window_start: int, ttl: int) -> int:
        name = self.key_for(key, window_start)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)  # queued, sent with EXEC
                pipe.expire(name, ttl)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise CounterUnavailable(type(exc).__name__) from exc
        return int(count)

    async def aclose(self) -> None:
        await self._redis.aclose()


def open_counter(redis_url: str | None, *, prefix: str) -> WindowCounter:
    """A Redis counter when a URL is configured, else an in-process one."""
    if redis_url:
        return RedisCounter(redis_url, prefix=prefix)
    return InProcessCounter()
