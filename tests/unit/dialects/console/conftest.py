"""Fixtures for the console tests: an app with scripted models, and browsers (cookie jars) signed in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from fastapi import FastAPI

from chatkeep.app import create_app
from chatkeep.providers.base import ModelInfo
from chatkeep.providers.registry import ModelRegistry
from chatkeep.settings import Settings
from chatkeep.storage.database import Database
from tests.conftest import SCRIPTED_MODELS
from tests.fakes import ScriptedProvider
from tests.unit.dialects.console.browser import ConsoleBrowser

EVIL_MODEL_NAME = '<script>alert("model")</script><img src=x onerror=alert(1)>'
CONSOLE_MODELS = [
    *SCRIPTED_MODELS,
    ModelInfo(id="scripted-evil", provider="scripted", upstream_model="evil", name=EVIL_MODEL_NAME),
]


@pytest.fixture(scope="session")
async def console_app(
    settings: Settings, db: Database, scripted_provider: ScriptedProvider
) -> AsyncIterator[FastAPI]:
    registry = ModelRegistry(CONSOLE_MODELS, {"scripted": scripted_provider})
    fast = settings.model_copy(update={"first_token_timeout_seconds": 1.0, "provider_timeout_seconds": 5.0})
    app = create_app(fast, registry=registry)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def browser(
    console_app: FastAPI, scripted: ScriptedProvider
) -> AsyncIterator[Callable[[str | None], Awaitable[ConsoleBrowser]]]:
    """Opens browsers on the console; `await browser(secret)` signs one in with an API token. The scripted
    model starts each test with its default script."""
    opened: list[ConsoleBrowser] = []

    async def open_browser(secret: str | None = None) -> ConsoleBrowser:
        page = ConsoleBrowser(console_app)
        opened.append(page)
        if secret is not None:
            await page.sign_in(secret)
        return page

    yield open_browser
    for page in opened:
        await page.aclose()
