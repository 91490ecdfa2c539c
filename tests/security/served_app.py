"""The scripted chatkeep app served over real HTTP on 127.0.0.1 from a background thread.

The fuzz tests and `bench/fuzz.py` share it: a real socket (not an in-process transport) means the
fuzzer sees exactly what a client would, including how uvicorn frames errors.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from chatkeep.app import create_app
from chatkeep.providers.base import ModelInfo
from chatkeep.providers.registry import ModelRegistry
from chatkeep.settings import Settings
from chatkeep.storage.database import Database
from chatkeep.storage.migrate import migrate
from tests.fakes import ScriptedProvider
from tests.support import Tenant, free_port, make_tenant

# The default (first) model can do everything, so a request the schema allows is refused only for a
# reason the schema states; the text-only model keeps capability checks reachable.
MODELS = [
    ModelInfo(
        id="scripted-all",
        provider="scripted",
        upstream_model="scripted-all-upstream",
        capabilities=frozenset({"text", "streaming", "image", "video", "document", "tools", "embeddings"}),
        context_window=4096,
        max_output_tokens=512,
    ),
    ModelInfo(
        id="scripted-text",
        provider="scripted",
        upstream_model="scripted-upstream",
        context_window=4096,
        max_output_tokens=512,
    ),
]


def scripted_settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        bootstrap=False,
        purge_interval_seconds=3600,
        first_token_timeout_seconds=2.0,
        provider_timeout_seconds=10.0,
        db_pool_size=4,
        db_max_overflow=4,
    )


class ServedApp:
    """uvicorn serving the scripted app on a free port; `stop()` runs the app's shutdown."""

    def __init__(self, settings: Settings) -> None:
        app = create_app(settings, registry=ModelRegistry(MODELS, {"scripted": ScriptedProvider()}))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="chatkeep-served-app", daemon=True)

    def start(self, timeout: float = 30.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the scripted app did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@contextmanager
def served(settings: Settings) -> Iterator[ServedApp]:
    served_app = ServedApp(settings)
    served_app.start()
    try:
        yield served_app
    finally:
        served_app.stop()


def seed_tenant(database_url: str) -> Tenant:
    """Migrate the database and create a tenant, from synchronous code (its own short-lived loop)."""

    async def seed() -> Tenant:
        db = Database(database_url)
        try:
            await migrate(db)
            return await make_tenant(db)
        finally:
            await db.dispose()

    return asyncio.run(seed())
