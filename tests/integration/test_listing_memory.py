"""`GET /api/chat-messages/` against a real `chatkeep serve` (issue 12, finding 4): the unpaginated array is
streamed, and the server's memory grows by a small fraction of what it sends (it used to grow by 2.4x)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest
from bench.listing_memory import seed

from chatkeep.storage.database import Database
from tests.support import LiveServer, Tenant, make_tenant

pytestmark = pytest.mark.integration


async def test_the_listing_is_streamed_with_bounded_memory(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    tenant = await make_tenant(db)
    count = await seed(database_url, tenant.admin, megabytes=20, message_kb=100)
    await asyncio.to_thread(_check, database_url, tenant, count, tmp_path)


def _check(database_url: str, tenant: Tenant, count: int, tmp_path: Path) -> None:
    """The measurement, off the event loop (it blocks while it samples)."""
    server = LiveServer(database_url, tmp_path / "server.log")
    try:
        process = psutil.Process(server.process.pid)
        url = f"{server.url}/api/chat-messages/"
        headers = {"Authorization": f"Token {tenant.admin}"}
        with httpx.Client(timeout=120) as http:
            http.get(url, headers=headers).raise_for_status()  # warm
            before = peak = process.memory_info().rss
            done = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, process.memory_info().rss)
                    time.sleep(0.005)

            sampler = threading.Thread(target=sample)
            sampler.start()
            size, chunks = 0, 0
            try:
                with http.stream("GET", url, headers=headers) as response:
                    assert response.status_code == 200
                    assert "content-length" not in response.headers  # streamed, not built whole
                    body = b""
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        chunks += 1
                        body += chunk
            finally:
                done.set()
                sampler.join()
        listed = httpx.Response(200, content=body).json()
        assert len(listed) == count and all(m["content"] == m["blocks"][0]["content"] for m in listed)
        assert [m["sequence_index"] for m in listed] == sorted(m["sequence_index"] for m in listed)
        assert peak - before < 0.25 * size, (peak - before, size)
    finally:
        server.stop()
