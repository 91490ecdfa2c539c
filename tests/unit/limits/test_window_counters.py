"""The window counters: in-process and on the real Redis (atomic, namespaced, expiring, shared)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from chatkeep.storage.window_counters import (
    CounterUnavailable,
    InProcessCounter,
    RedisCounter,
    WindowCounter,
)
from tests.support import free_port


@pytest.fixture(params=["in-process", "redis"])
async def counter(
    request: pytest.FixtureRequest,
    redis_url: str,
    redis_prefix: str,
) -> AsyncIterator[WindowCounter]:
    # The Redis fixtures are parameters, not looked up inside this coroutine: a session fixture first set
    # up from a running event loop cannot start (which one ran first depended on the test order).
    made: WindowCounter
    if request.param == "in-process":
        made = InProcessCounter()
    else:
        made = RedisCounter(redis_url, prefix=redis_prefix)
    yield made
    await made.aclose()


async def test_hits_count_per_key_and_window(counter: WindowCounter) -> None:
    assert [await counter.hit("rpm:a", window_start=600, ttl=120) for _ in range(3)] == [1, 2, 3]
    assert await counter.hit("rpm:b", window_start=600, ttl=120) == 1
    assert await counter.hit("rpm:a", window_start=660, ttl=120) == 1, "a new window starts from zero"


async def test_redis_keys_are_namespaced_and_expire(redis_url: str, redis_prefix: str, redis: Redis) -> None:
    counter = RedisCounter(redis_url, prefix=redis_prefix)
    try:
        await counter.hit("rpm:org-1", window_start=120, ttl=90)
    finally:
        await counter.aclose()
    name = f"{redis_prefix}:rpm:org-1:120"
    assert await redis.get(name) == b"1"
    assert 0 < await redis.ttl(name) <= 90


async def test_concurrent_hits_from_two_replicas_are_counted_exactly_once_each(
    redis_url: str, redis_prefix: str
) -> None:
    replicas = [RedisCounter(redis_url, prefix=redis_prefix) for _ in range(2)]
    try:
        counts = await asyncio.gather(
            *(replicas[i % 2].hit("rpm:shared", window_start=0, ttl=60) for i in range(60))
        )
    finally:
        for replica in replicas:
            await replica.aclose()
    assert sorted(counts) == list(range(1, 61))


async def test_an_unreachable_redis_is_reported_not_hidden() -> None:
    counter = RedisCounter(f"redis://127.0.0.1:{free_port()}/0", prefix="nowhere")
    try:
        with pytest.raises(CounterUnavailable):
            await counter.hit("rpm:x", window_start=0, ttl=60)
    finally:
        await counter.aclose()
