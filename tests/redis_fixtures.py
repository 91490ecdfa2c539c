"""Fixtures for tests against the real Redis: CHATKEEP_TEST_REDIS (default redis://127.0.0.1:6379/15).

Redis is always configured here, so an unreachable server fails the tests that need it; they never skip.
Every key a test run writes starts with a prefix unique to the run, and is deleted at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

REDIS_URL = os.environ.get("CHATKEEP_TEST_REDIS") or "redis://127.0.0.1:6379/15"


@pytest.fixture(scope="session")
async def redis_url() -> str:
    """The test Redis, after checking that it answers (a ConnectionError fails the test)."""
    client = Redis.from_url(REDIS_URL)
    try:
        assert await client.ping(), f"Redis at {REDIS_URL} did not answer PING"
    finally:
        await client.aclose()
    return REDIS_URL


@pytest.fixture(scope="session")
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix unique to this test run; its keys are deleted afterwards."""
    prefix = f"chatkeep-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A client on the test Redis, to look at what chatkeep wrote."""
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()
