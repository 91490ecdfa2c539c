"""Shared fixtures. Database-backed fixtures run on SQLite, and also on PostgreSQL when
CHATKEEP_TEST_POSTGRES holds a URL (then an unreachable server fails the run; it never skips)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from chatkeep.app import create_app
from chatkeep.providers.base import ModelInfo, Pricing
from chatkeep.providers.registry import ModelRegistry
from chatkeep.settings import Settings
from chatkeep.storage.database import Database
from chatkeep.storage.migrate import migrate
from tests.fakes import Script, ScriptedProvider
from tests.support import LiveServer, Tenant, make_tenant

POSTGRES_URL = os.environ.get("CHATKEEP_TEST_POSTGRES")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


async def _create_pg_database(admin_url: str) -> tuple[str, str]:
    """Create a throwaway database next to the configured one; returns (url, name)."""
    url = make_url(admin_url)
    name = f"chatkeep_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False), name


async def _drop_pg_database(admin_url: str, name: str) -> None:
    url = make_url(admin_url)
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated, empty database per backend for the whole session."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "chatkeep.db"
        url = f"sqlite+aiosqlite:///{path}"
        yield url
        return
    assert POSTGRES_URL, "postgres backend requested without CHATKEEP_TEST_POSTGRES"
    url, name = await _create_pg_database(POSTGRES_URL)
    try:
        yield url
    finally:
        await _drop_pg_database(POSTGRES_URL, name)


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[Database]:
    """A handle on the session database, migrated to head."""
    database = Database(database_url)
    await migrate(database)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        bootstrap=False,
        purge_interval_seconds=3600,
        # Several apps share one PostgreSQL server with other test runs: keep each pool small.
        db_pool_size=4,
        db_max_overflow=4,
        # In-process apps run on the session's event loop, which stands still while a sync test runs. A
        # heartbeat caught between BEGIN and COMMIT then held SQLite's write lock against the live server
        # that test talks to (30 s of "database is locked"). Heartbeats are tested on live servers.
        heartbeat_seconds=3600,
        replica_lease_seconds=3 * 3600,
    )


@pytest.fixture(scope="session")
async def client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client on the full ASGI app (lifespan included)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test") as http:
            yield http


SCRIPTED_MODELS = [
    ModelInfo(
        id="scripted-text",
        provider="scripted",
        upstream_model="scripted-upstream",
        name="Scripted text model",
        context_window=4096,
        max_output_tokens=512,
        pricing=Pricing(input_per_m=3.0, output_per_m=15.0),
    ),
    ModelInfo(
        id="scripted-vision",
        provider="scripted",
        upstream_model="scripted-vision-upstream",
        capabilities=frozenset({"text", "streaming", "image", "document", "tools"}),
        context_window=4096,
        max_output_tokens=512,
    ),
]


@pytest.fixture(scope="session")
def scripted_provider() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture
def scripted(scripted_provider: ScriptedProvider) -> ScriptedProvider:
    """The scripted provider behind `scripted_client`, reset to its default script for each test."""
    scripted_provider.script = Script()
    scripted_provider.requests.clear()
    scripted_provider.interrupted.clear()
    scripted_provider.finished.clear()
    return scripted_provider


@pytest.fixture(scope="session")
async def scripted_client(
    settings: Settings, db: Database, scripted_provider: ScriptedProvider
) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client whose models are scripted (deterministic answers, injectable faults)."""
    registry = ModelRegistry(SCRIPTED_MODELS, {"scripted": scripted_provider})
    fast = settings.model_copy(update={"first_token_timeout_seconds": 1.0, "provider_timeout_seconds": 5.0})
    app = create_app(fast, registry=registry)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test") as http:
            yield http


@pytest.fixture
async def tenant(db: Database) -> Tenant:
    """A fresh organisation with admin, service and two member tokens."""
    return await make_tenant(db)


@pytest.fixture
async def other_tenant(db: Database) -> Tenant:
    return await make_tenant(db)


@pytest.fixture(scope="session")
def live_server(
    database_url: str, db: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A real `chatkeep serve` process over HTTP on 127.0.0.1."""
    log = Path(tmp_path_factory.mktemp("server")) / "server.log"
    server = LiveServer(database_url, log)
    try:
        yield server
    finally:
        server.stop()
