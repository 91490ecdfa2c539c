"""Fixtures for reliability tests: the fault-injecting mock upstream, a live chatkeep routed to it, and
throwaway databases for tests that crash or migrate a server of their own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from chatkeep.storage.database import Database
from tests.reliability.upstream import MockUpstreamProcess, models_yaml
from tests.support import LiveServer, free_port

# Long enough for the SDK's two retries after a 429 with `Retry-After: 1`; the timeout tests use the
# impatient provider instead of waiting for this.
FIRST_TOKEN_TIMEOUT = 8
PROVIDER_TIMEOUT = 30


@pytest.fixture(scope="session")
def mock_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockUpstreamProcess]:
    upstream = MockUpstreamProcess(tmp_path_factory.mktemp("mock-upstream") / "upstream.log")
    try:
        yield upstream
    finally:
        upstream.stop()


@pytest.fixture(scope="session")
def models_file(tmp_path_factory: pytest.TempPathFactory, mock_upstream: MockUpstreamProcess) -> Path:
    path = tmp_path_factory.mktemp("models") / "models.yaml"
    path.write_text(models_yaml(mock_upstream.url, refused_port=free_port()))
    return path


def upstream_env(models_file: Path, **overrides: str) -> dict[str, str]:
    """Environment for a `chatkeep serve` whose models are the mock upstream's scenarios."""
    return {
        "CHATKEEP_MODELS_FILE": str(models_file),
        "CHATKEEP_FIRST_TOKEN_TIMEOUT_SECONDS": str(FIRST_TOKEN_TIMEOUT),
        "CHATKEEP_PROVIDER_TIMEOUT_SECONDS": str(PROVIDER_TIMEOUT),
        "CHATKEEP_PURGE_INTERVAL_SECONDS": "3600",
        **overrides,
    }


@pytest.fixture(scope="session")
def upstream_server(
    database_url: str, db: Database, models_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A real `chatkeep serve` on the session database, its models served by the mock upstream."""
    log = tmp_path_factory.mktemp("upstream-server") / "server.log"
    server = LiveServer(database_url, log, extra_env=upstream_env(models_file))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def http(upstream_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=upstream_server.url, timeout=30) as client:
        yield client


async def _pg_admin(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database="postgres",
    )


@pytest.fixture
async def fresh_database_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty, unmigrated database on the same backend as `database_url`, dropped afterwards."""
    if make_url(database_url).get_backend_name() == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"chatkeep_rel_{uuid.uuid4().hex[:12]}"
    conn = await _pg_admin(database_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await _pg_admin(database_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


_FIGURES: dict[str, str] = {}


class Figures:
    """Measurements the reliability tests take (latencies, throughput), printed after the run."""

    def __init__(self, backend: str) -> None:
        self.backend = backend

    def record(self, name: str, value: float, unit: str) -> None:
        """Keep `value` under `name` (a later measurement under the same name replaces it)."""
        _FIGURES[f"{name} [{self.backend}]"] = f"{value:.3f} {unit}" if unit == "s" else f"{value:.0f} {unit}"


@pytest.fixture
def figures(database_url: str) -> Figures:
    return Figures(make_url(database_url).get_backend_name())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section("reliability figures")
        for name, value in _FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")
