"""Slow and idle clients against a real `chatkeep serve` (issue 12, finding 5): each gets a clear answer
and loses its socket within the configured deadline; past the connection cap, requests get 503."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatkeep.storage.database import Database
from tests.support import LiveServer

pytestmark = pytest.mark.integration

DEADLINE = 1.0
CAP = 20


@pytest.fixture(scope="module")
def strict_server(
    database_url: str, db: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {
        "CHATKEEP_HEADER_READ_TIMEOUT_SECONDS": str(DEADLINE),
        "CHATKEEP_BODY_READ_TIMEOUT_SECONDS": str(DEADLINE),
        "CHATKEEP_KEEP_ALIVE_TIMEOUT_SECONDS": "1",
        "CHATKEEP_MAX_CONNECTIONS": str(CAP),
    }
    server = LiveServer(database_url, Path(tmp_path_factory.mktemp("strict")) / "server.log", env)
    try:
        yield server
    finally:
        server.stop()


async def _answer_within(port: int, sent: bytes, drip: bytes, within: float) -> tuple[bytes, float]:
    """Send `sent`, then `drip` a byte every 0.2 s; returns what the server answered and when it closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(sent)
    received = b""
    try:
        for byte in drip:
            writer.write(bytes([byte]))
            await writer.drain()
            try:
                async with asyncio.timeout(0.2):
                    chunk = await reader.read(4096)
            except TimeoutError:
                continue
            received += chunk
            if not chunk:
                break
            if time.monotonic() - started > within:
                break
        else:
            async with asyncio.timeout(within):
                while chunk := await reader.read(4096):
                    received += chunk
    except ConnectionError:
        pass
    finally:
        writer.close()
    return received, time.monotonic() - started


async def test_slow_headers_get_408_and_lose_the_socket(strict_server: LiveServer) -> None:
    answer, after = await _answer_within(
        strict_server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"X-Slow: " + b"a" * 200, 10
    )
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert b"headers did not arrive in time" in answer
    # libuv keeps time in whole milliseconds, so the deadline can fire up to 1 ms before the client counts it.
    assert DEADLINE - 0.002 <= after < DEADLINE + 4  # slack for a loaded 2-core machine


async def test_a_slow_body_gets_408_and_loses_the_socket(strict_server: LiveServer) -> None:
    head = b"POST /api/v3/organizations/x/ai/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    answer, after = await _answer_within(
        strict_server.port, head + b"Content-Length: 500\r\n\r\n", b"{" * 200, 10
    )
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert b"body did not arrive in time" in answer
    # libuv keeps time in whole milliseconds, so the deadline can fire up to 1 ms before the client counts it.
    assert DEADLINE - 0.002 <= after < DEADLINE + 4  # slack for a loaded 2-core machine


async def test_an_idle_kept_alive_connection_is_closed(strict_server: LiveServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", strict_server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    await reader.readexactly(length)
    started = time.monotonic()
    async with asyncio.timeout(5):
        assert await reader.read(4096) == b""  # closed by the server, not by us
    assert time.monotonic() - started < 3
    writer.close()


async def test_past_the_connection_cap_requests_get_503_until_sockets_free_up(
    strict_server: LiveServer,
) -> None:
    hogs = [await asyncio.open_connection("127.0.0.1", strict_server.port) for _ in range(CAP)]
    for _, writer in hogs:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
    await asyncio.sleep(0.2)
    async with httpx.AsyncClient(base_url=strict_server.url, timeout=5) as http:
        refused = await http.get("/healthz")
        assert refused.status_code == 503
        await asyncio.sleep(DEADLINE + 1)  # the hogs' header deadline passes
        assert (await http.get("/healthz")).status_code == 200
    for _, writer in hogs:
        writer.close()
