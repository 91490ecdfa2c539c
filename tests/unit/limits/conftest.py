"""Fixtures for the limit tests: in-process apps built with limit settings, a movable clock, real Redis."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from chatkeep.app import create_app
from chatkeep.core.limits import WINDOW_SECONDS, Limits
from chatkeep.providers.base import ModelInfo
from chatkeep.providers.registry import ModelRegistry
from chatkeep.settings import Settings
from chatkeep.storage.database import Database
from tests.fakes import ScriptedProvider
from tests.redis_fixtures import redis, redis_prefix, redis_url  # noqa: F401 (fixtures)

MODEL = ModelInfo(
    id="limited-text",
    provider="scripted",
    upstream_model="limited-upstream",
    capabilities=frozenset({"text", "streaming", "embeddings"}),
    context_window=4096,
    max_output_tokens=512,
)


class Clock:
    """A stopped clock (epoch seconds) that tests move by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    """Now, moved to 20.5 s into the current minute: Retry-After for a request limit is then 40 s."""
    minute = int(time.time() // WINDOW_SECONDS) * WINDOW_SECONDS
    return Clock(minute + 20.5)


@dataclass
class LimitedApp:
    app: FastAPI
    client: httpx.AsyncClient
    provider: ScriptedProvider

    @property
    def limits(self) -> Limits:
        limits: Limits = self.app.state.limits
        return limits


MakeApp = Callable[..., Awaitable[LimitedApp]]


@pytest.fixture
async def make_app(settings: Settings, db: Database, clock: Clock) -> AsyncIterator[MakeApp]:
    """Builds in-process apps with setting overrides (e.g. rate_limit_rpm=3), all on `clock`."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(**overrides: Any) -> LimitedApp:
            provider = ScriptedProvider()
            registry = ModelRegistry([MODEL], {"scripted": provider})
            app = create_app(
                settings.model_copy(update={"auto_migrate": False, **overrides}), registry=registry
            )
            await stack.enter_async_context(app.router.lifespan_context(app))
            app.state.limits.clock = clock
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test")
            await stack.enter_async_context(client)
            return LimitedApp(app=app, client=client, provider=provider)

        yield make


@pytest.fixture(params=["in-process", "redis"])
def counter_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings selecting each counter backend: in this process, or the real Redis."""
    if request.param == "in-process":
        return {"redis_url": None}
    url = request.getfixturevalue("redis_url")
    return {"redis_url": url, "redis_key_prefix": request.getfixturevalue("redis_prefix")}
