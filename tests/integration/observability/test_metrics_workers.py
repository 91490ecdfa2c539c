"""A real `chatkeep serve --workers 2`, scraped over HTTP: every worker's counts, summed in each scrape."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatkeep.storage.database import Database
from tests.reliability.upstream import MockUpstreamProcess, models_yaml
from tests.support import Tenant, free_port
from tests.unit.observability.metrics_reading import samples, value

pytestmark = pytest.mark.integration
METRICS_TOKEN = "scrape-me-please"
CHAT_ROUTE = "/api/v3/organizations/{organisation}/ai/chat/stream"


class Workers:
    """`chatkeep serve --workers N` on a free port, its models served by the mock upstream."""

    def __init__(self, database_url: str, models_file: Path, log_path: Path, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATKEEP_", "PROMETHEUS_"))}
        env.update(
            CHATKEEP_DATABASE_URL=database_url,
            CHATKEEP_BOOTSTRAP="false",
            CHATKEEP_LOG_LEVEL="warning",
            CHATKEEP_DB_POOL_SIZE="2",
            CHATKEEP_DB_MAX_OVERFLOW="2",
            CHATKEEP_MODELS_FILE=str(models_file),
            CHATKEEP_METRICS_TOKEN=METRICS_TOKEN,
            CHATKEEP_PURGE_INTERVAL_SECONDS="3600",
            # No heartbeat during the test: one holding a pooled connection at a scrape (slow under a
            # loaded suite) showed as a connection in use.
            CHATKEEP_HEARTBEAT_SECONDS="3600",
            CHATKEEP_REPLICA_LEASE_SECONDS="10800",
        )
        self.log = log_path
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chatkeep", "serve", "--port", str(self.port), "--workers", str(workers)],
            env=env,
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chatkeep exited early:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"chatkeep did not become ready:\n{log_path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def two_workers(database_url: str, db: Database, tmp_path: Path) -> Iterator[Workers]:
    upstream = MockUpstreamProcess(tmp_path / "upstream.log")
    models = tmp_path / "models.yaml"
    models.write_text(models_yaml(upstream.url, refused_port=free_port()))
    server = Workers(database_url, models, tmp_path / "server.log", workers=2)
    try:
        yield server
    finally:
        server.stop()
        upstream.stop()


async def test_two_workers_report_the_same_totals(two_workers: Workers, tenant: Tenant) -> None:
    auth = {"Authorization": f"Bearer {tenant.service}"}
    async with httpx.AsyncClient(base_url=two_workers.url, timeout=60) as http:
        assert (await http.get("/metrics")).status_code == 401

        async def chat(model: str) -> int:
            response = await http.post(
                f"/api/v3/organizations/{tenant.name}/ai/chat/stream",
                json={"modelId": model, "messages": [{"role": "user", "content": "count me"}]},
                headers=auth,
            )
            return response.status_code

        # Concurrent requests on fresh connections land on both workers.
        streamed = await asyncio.gather(*(chat("mock-stream") for _ in range(12)))
        failed = await asyncio.gather(*(chat("mock-500") for _ in range(3)))
        assert streamed == [200] * 12 and failed == [200] * 3  # stream errors arrive as SSE events

        scrapes = []
        for _ in range(8):
            async with httpx.AsyncClient(base_url=two_workers.url, timeout=10) as fresh:
                response = await fresh.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            assert response.status_code == 200
            scrapes.append(samples(response.text))

    for scrape in scrapes:
        assert (
            value(scrape, "chatkeep_http_requests_total", method="POST", route=CHAT_ROUTE, status="200") == 15
        )
        assert value(scrape, "chatkeep_turn_duration_seconds_count", model="mock-stream") == 12
        assert value(scrape, "chatkeep_turn_time_to_first_token_seconds_count", model="mock-stream") == 12
        assert value(scrape, "chatkeep_turns_total", model="mock-500", outcome="failed") == 3
        assert value(scrape, "chatkeep_upstream_errors_total", model="mock-500", kind="upstream") == 3
        output = value(
            scrape, "chatkeep_model_tokens_total", org=tenant.name, model="mock-stream", direction="output"
        )
        assert output > 0
        assert value(scrape, "chatkeep_open_streams") == 0
        assert value(scrape, "chatkeep_db_pool_connections_in_use") == 0
        # Both workers are alive and each scrape read both workers' files (one series per worker pid).
        # (The guards' scanning processes import the metrics too, and show as series of 0: not serving.)
        workers = {
            dict(labels).get("pid")
            for (name, labels), started in scrape.items()
            if name == "chatkeep_worker_start_time_seconds" and started > 0
        }
        assert len(workers) == 2 and None not in workers, workers
