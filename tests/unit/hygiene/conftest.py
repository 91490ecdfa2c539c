"""An in-process app with scripted models whose log_content setting each test chooses."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from chatkeep.app import create_app
from chatkeep.log_privacy import keep_content_out_of_logs
from chatkeep.providers.base import ModelInfo
from chatkeep.providers.registry import ModelRegistry
from chatkeep.settings import Settings
from chatkeep.storage.database import Database
from tests.fakes import ScriptedProvider

MODEL_ID = "probe-text"
AppClient = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def app_client(settings: Settings, db: Database) -> AsyncIterator[AppClient]:
    """Builds an app with `log_content`; app errors become 500 responses, as under a real server."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(*, log_content: bool = False) -> httpx.AsyncClient:
            model = ModelInfo(id=MODEL_ID, provider="scripted", upstream_model="probe-upstream")
            registry = ModelRegistry([model], {"scripted": ScriptedProvider()})
            update = {"auto_migrate": False, "log_content": log_content}
            app = create_app(settings.model_copy(update=update), registry=registry)
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            client = httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test")
            return await stack.enter_async_context(client)

        yield make
    keep_content_out_of_logs(allow_content=False)  # logging is process-wide: leave the safe default behind
