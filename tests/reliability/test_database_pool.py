"""A saturated or unreachable database answers 503 with Retry-After, in each dialect's error shape."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url

from chatkeep.app import create_app
from chatkeep.settings import Settings
from chatkeep.storage.database import Database
from tests.conftest import POSTGRES_URL
from tests.support import make_tenant

Served = tuple[FastAPI, httpx.AsyncClient]


@contextlib.asynccontextmanager
async def served(database_url: str, data_dir: Path, **settings: Any) -> AsyncIterator[Served]:
    """The app on `database_url` with `settings`, started, and an in-process client for it."""
    app = create_app(
        Settings(
            database_url=database_url,
            data_dir=data_dir,
            bootstrap=False,
            purge_interval_seconds=3600,
            **settings,
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test") as http:
            yield app, http


@pytest.fixture
async def one_connection_app(database_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    """The app on a pool of exactly one connection that gives up waiting after 0.2 s."""
    one = {"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout_seconds": 0.2}
    async with served(database_url, tmp_path, **one) as app_and_client:
        yield app_and_client


async def test_pool_exhaustion_is_503_then_recovers(one_connection_app: Served, db: Database) -> None:
    app, http = one_connection_app
    tenant = await make_tenant(db)
    quant = f"/api/v3/organizations/{tenant.name}/ai/sessions"
    waldur = "/api/chat-sessions/"
    quant_auth = {"Authorization": f"Bearer {tenant.admin}"}
    waldur_auth = {"Authorization": f"Token {tenant.admin}"}

    held = await app.state.db.engine.connect()  # the pool's only connection, busy elsewhere
    try:
        await held.exec_driver_sql("SELECT 1")
        busy = await http.get(quant, headers=quant_auth)
        busy_waldur = await http.get(waldur, headers=waldur_auth)
    finally:
        await held.close()

    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "1"
    assert busy.json()["error"] == "service_unavailable"
    assert busy_waldur.status_code == 503
    assert set(busy_waldur.json()) == {"detail"}

    again = await http.get(quant, headers=quant_auth)
    assert again.status_code == 200, again.text


async def test_pool_settings_reach_the_engine(db: Database, database_url: str) -> None:
    database = Database(database_url, pool_size=3, max_overflow=2, pool_timeout=4.0)
    try:
        pool = database.engine.pool
        assert pool.size() == 3  # type: ignore[attr-defined]
        assert pool._max_overflow == 2  # type: ignore[attr-defined]
        assert pool._timeout == 4.0  # type: ignore[attr-defined]
    finally:
        await database.dispose()


async def test_unreachable_postgres_is_503(tmp_path: Path) -> None:
    # Nothing listens on port 1: every connection attempt is refused.
    nowhere = "postgresql+asyncpg://postgres@127.0.0.1:1/none"
    async with served(nowhere, tmp_path, auto_migrate=False) as (_, http):
        response = await http.get(
            "/api/v3/organizations/acme/ai/sessions", headers={"Authorization": "Bearer ck_x"}
        )
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "service_unavailable"
    assert "127.0.0.1" not in response.text


@pytest.mark.skipif(not POSTGRES_URL, reason="needs CHATKEEP_TEST_POSTGRES: a role's connection limit")
async def test_too_many_connections_is_503(database_url: str, db: Database, tmp_path: Path) -> None:
    """PostgreSQL refusing a connection (this role's limit reached) is an outage, not a bug."""
    if db.is_sqlite:
        pytest.skip("SQLite has no connections to run out of; the PostgreSQL run covers this")
    role = f"ck_limited_{uuid.uuid4().hex[:8]}"
    async with db.engine.connect() as admin:
        # Not a superuser: superusers are exempt from connection limits.
        await admin.execute(text(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1"))
        await admin.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
        await admin.commit()
    tenant = await make_tenant(db)
    limited_url = make_url(database_url).set(username=role)
    # The role's only connection, taken before the app starts (whose upkeep task would race us for it).
    held = await asyncpg.connect(
        host=limited_url.host, port=limited_url.port, user=role, database=limited_url.database
    )
    try:
        limited = limited_url.render_as_string(hide_password=False)
        async with served(limited, tmp_path, auto_migrate=False) as (_, http):
            response = await http.get(
                f"/api/v3/organizations/{tenant.name}/ai/sessions",
                headers={"Authorization": f"Bearer {tenant.admin}"},
            )
    finally:
        await held.close()
        async with db.engine.connect() as admin:
            await admin.execute(text(f"DROP OWNED BY {role}"))
            await admin.execute(text(f"DROP ROLE {role}"))
            await admin.commit()
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
