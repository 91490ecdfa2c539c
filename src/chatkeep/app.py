"""create_app(settings): wiring only."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import anyio
from fastapi import FastAPI

from chatkeep import __version__
from chatkeep.body_limit import BodyLimitMiddleware
from chatkeep.core import housekeeping, replicas, workers
from chatkeep.core.limits import Limits
from chatkeep.core.turns import TurnEngine
from chatkeep.core.turns.recovery import settle_orphans
from chatkeep.core.turns.retrying import DATABASE_UNAVAILABLE, SettleRetries
from chatkeep.core.turns.stopping import RunningTurns
from chatkeep.dialects import console, errors, openapi_docs
from chatkeep.dialects.closing_turns import CloseTurnsMiddleware
from chatkeep.dialects.native import audit_trail, conversation_export, health
from chatkeep.dialects.native import metrics as metrics_route
from chatkeep.dialects.openai import router as openai
from chatkeep.dialects.quant import router as quant
from chatkeep.dialects.waldur import router as waldur
from chatkeep.dialects.waldur import stream as waldur_stream
from chatkeep.log_privacy import keep_content_out_of_logs
from chatkeep.observability import db_pool, tracing
from chatkeep.observability import metrics as process_metrics
from chatkeep.observability.http import ObservedRequests
from chatkeep.providers import token_count
from chatkeep.providers.registry import ModelRegistry
from chatkeep.settings import Settings
from chatkeep.storage.database import Database
from chatkeep.storage.migrate import migrate
from chatkeep.storage.stop_signals import open_signals
from chatkeep.storage.window_counters import open_counter

log = logging.getLogger("chatkeep")


async def _arrive(db: Database, models: ModelRegistry, me: replicas.ProcessIdentity, lease: float) -> None:
    """On start: register this process and settle the turns dead processes left running (a crash, a kill -9
    before this restart). A database that cannot be reached now does not stop the server from starting
    (requests then get 503): the first heartbeat that reaches it does both."""
    try:
        async with db.write() as session:
            await replicas.register(session, me)
        await settle_orphans(db, models, here=me, lease=timedelta(seconds=lease))
    except DATABASE_UNAVAILABLE as exc:
        log.warning("could not register this process yet (%s); the heartbeat will", type(exc).__name__)


async def _leave(db: Database, me: replicas.ProcessIdentity, retries: SettleRetries) -> None:
    """On a clean exit: give settles waiting for the database a last chance, then deregister."""
    lost = await retries.drain(within=10.0)
    if lost:
        log.error("%d answers could not be stored before exit; they are recovered as checkpointed", lost)
    try:
        async with db.write() as session:
            await replicas.retire(session, me)
    except DATABASE_UNAVAILABLE as exc:  # the row then expires with its lease
        log.warning("could not deregister this process (%s)", type(exc).__name__)


def create_app(settings: Settings | None = None, *, registry: ModelRegistry | None = None) -> FastAPI:
    """Build the ASGI app: storage, models, background upkeep, error mapping and every dialect's routes.

    `registry` replaces the one built from the models file (tests use it to plug in scripted providers).
    """
    settings = settings or Settings()
    models = registry or ModelRegistry.from_settings(settings)
    keep_content_out_of_logs(allow_content=settings.log_content)
    otlp_endpoint = tracing.endpoint_from(settings.otlp_endpoint)
    if otlp_endpoint and not tracing.enabled():
        tracing.start(endpoint=otlp_endpoint)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(
            settings.resolved_database_url(),
            hide_parameters=not settings.log_content,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
        )
        process_metrics.note_worker_started()
        db_pool.watch(db.engine)
        tracing.instrument_engine(db.engine)
        if settings.auto_migrate:
            await migrate(db)
        await anyio.to_thread.run_sync(workers.start)
        await anyio.to_thread.run_sync(token_count.warm_up)
        counter = open_counter(settings.redis_url, prefix=settings.redis_key_prefix)
        limits = Limits(
            counter,
            requests_per_minute=settings.rate_limit_rpm,
            monthly_token_quota=settings.monthly_token_quota,
        )
        # This process, as the others see it: turns it runs carry its id (see core.replicas).
        me = replicas.ProcessIdentity.current()
        lease = settings.replica_lease_seconds
        await _arrive(db, models, me, lease)
        app.state.db = db
        app.state.registry = models
        app.state.limits = limits
        retries = SettleRetries()
        running = RunningTurns(open_signals(settings.redis_url, prefix=settings.redis_key_prefix))
        await running.start()
        app.state.turns = TurnEngine(
            db,
            models,
            first_token_timeout=settings.first_token_timeout_seconds,
            total_timeout=settings.provider_timeout_seconds,
            limits=limits,
            running=running,
            runner_id=me.id,
            retries=retries,
        )
        # A turn still "in progress" long after any model call could last was cut off by a crash.
        stale_after = settings.resolved_stale_turn_seconds()
        purger = asyncio.create_task(
            housekeeping.run_forever(
                db, interval=settings.purge_interval_seconds, stale_turn_seconds=stale_after
            )
        )
        keeper = asyncio.create_task(
            housekeeping.keep_alive(db, models, me=me, interval=settings.heartbeat_seconds, lease=lease)
        )
        if gc.get_freeze_count() == 0:  # once per process (tests build many apps)
            # What startup built lives as long as the process: the collector's full passes walked all of
            # it with the event loop stopped, 90-220 ms each, every few seconds under load.
            gc.freeze()
        try:
            yield
        finally:
            for task in (purger, keeper):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await _leave(db, me, retries)
            await models.aclose()
            await running.aclose()
            await counter.aclose()
            await db.dispose()
            process_metrics.forget_this_process()

    app = FastAPI(
        title="chatkeep",
        version=__version__,
        description="Self-hosted, multi-tenant AI chat-session server.",
        lifespan=lifespan,
        telemetry=tracing.fastapi_telemetry(),  # type: ignore[arg-type]
    )
    app.state.settings = settings
    errors.install(app)
    openapi_docs.install(app)
    app.add_middleware(CloseTurnsMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, render=errors.render_http)
    # Outermost but for tracing: counts every request, those the body limit refuses too.
    app.add_middleware(ObservedRequests, log_requests=settings.log_format == "json" and settings.access_log)
    app.include_router(health.router)
    app.include_router(metrics_route.router)
    app.include_router(conversation_export.router)
    app.include_router(audit_trail.router)
    app.include_router(quant.build())
    app.include_router(waldur.build())
    app.include_router(waldur_stream.router)
    app.include_router(openai.build())
    console.install(app)
    return app
