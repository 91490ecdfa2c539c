"""create_app(settings): wiring only."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from chatkeep import __version__
from chatkeep.body_limit import BodyLimitMiddleware
from chatkeep.core import housekeeping
from chatkeep.dialects import errors
from chatkeep.dialects.native import health
from chatkeep.dialects.quant import router as quant
from chatkeep.settings import Settings
from chatkeep.storage.database import Database
from chatkeep.storage.migrate import migrate


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app: storage, background upkeep, error mapping and every dialect's routes."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.resolved_database_url())
        if settings.auto_migrate:
            await migrate(db)
        app.state.db = db
        purger = asyncio.create_task(housekeeping.run_forever(db, interval=settings.purge_interval_seconds))
        try:
            yield
        finally:
            purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purger
            await db.dispose()

    app = FastAPI(
        title="chatkeep",
        version=__version__,
        description="Self-hosted, multi-tenant AI chat-session server.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    errors.install(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, render=errors.render_http)
    app.include_router(health.router)
    app.include_router(quant.build())
    return app
