"""Slow and idle clients against each ASGI server chatkeep could run on: which ones get dropped, and when.

    python -m bench.slow_clients [--sockets 300] [--hold 12] [--timeout 5]

For uvicorn, hypercorn and granian, each configured with the tightest options it has (a `--timeout`
second budget wherever the server offers one), it opens three kinds of hostile sockets at once:
slow headers (a slowloris: one header byte per second, never finishing), a slow body (a POST that
announces 1,000 bytes and sends one per second) and idle keep-alive (one request, then silence). It
reports how many of each the server still holds after `--hold` seconds, and whether a normal request
meanwhile was answered. The app behind every server is the same small ASGI app that reads the body and
answers 200, because what is measured is the server's connection handling, not chatkeep's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

APP = "bench.slow_clients:app"


async def app(scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def]
    """Read the whole body, answer 200."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def commands(port: int, timeout: int, cap: int) -> dict[str, list[str]]:
    """Each server with every option it has for this: timeouts of `timeout` s and a connection cap."""
    bin_dir = Path(sys.executable).parent
    return {
        "uvicorn": [
            str(bin_dir / "uvicorn"), APP, "--port", str(port), "--log-level", "warning",
            "--timeout-keep-alive", str(timeout), "--limit-concurrency", str(cap),
        ],
        "hypercorn": [
            str(bin_dir / "hypercorn"), APP, "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
            "--keep-alive", str(timeout), "--read-timeout", str(timeout),
        ],
        "granian": [
            str(bin_dir / "granian"), "--interface", "asgi", APP, "--port", str(port),
            "--log-level", "warning", "--http", "1",
            "--http1-header-read-timeout", str(timeout * 1000), "--backpressure", str(cap),
        ],
        # What `chatkeep serve` runs: uvicorn with chatkeep's header and body deadlines.
        "uvicorn+deadlines": [
            str(bin_dir / "uvicorn"), APP, "--port", str(port), "--log-level", "warning",
            "--timeout-keep-alive", str(timeout), "--limit-concurrency", str(cap),
            "--http", "chatkeep.http_deadlines:DeadlineProtocol",
        ],
    }  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running(command: list[str], port: int, timeout: int) -> Iterator[None]:
    env = {
        **os.environ,
        "CHATKEEP_HEADER_READ_TIMEOUT_SECONDS": str(timeout),
        "CHATKEEP_BODY_READ_TIMEOUT_SECONDS": str(timeout),
    }
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"{command[0]} did not start")
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def slow_header(port: int, hold: float) -> bool:
    """True if the server still held the socket after `hold` seconds."""
    reader, writer = await _open(port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
    return await _drip(reader, writer, b"X-Slow: " + b"a" * 1000, hold)


async def slow_body(port: int, hold: float) -> bool:
    reader, writer = await _open(port)
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
    return await _drip(reader, writer, b"a" * 1000, hold)


async def idle(port: int, hold: float) -> bool:
    reader, writer = await _open(port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    await reader.readuntil(b"ok")
    return await _drip(reader, writer, b"", hold)


async def _drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes, hold: float) -> bool:
    """Send `data` a byte a second for `hold` seconds; True if the server never closed the socket."""
    deadline = time.monotonic() + hold
    index = 0
    try:
        while time.monotonic() < deadline:
            if index < len(data):
                writer.write(data[index : index + 1])
                index += 1
                await writer.drain()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1):
                    chunk = await reader.read(4096)
                    if not chunk or b"HTTP/1.1 4" in chunk or b"HTTP/1.1 5" in chunk:
                        return False  # closed, or answered with an error status
        return True
    except (ConnectionError, OSError):
        return False
    finally:
        writer.close()


async def measure(name: str, port: int, sockets: int, hold: float) -> dict[str, object]:
    kinds = {"slow header": slow_header, "slow body": slow_body, "idle keep-alive": idle}
    started = time.monotonic()
    jobs = {kind: [asyncio.create_task(fn(port, hold)) for _ in range(sockets)] for kind, fn in kinds.items()}
    await asyncio.sleep(min(3.0, hold / 2))
    async with httpx.AsyncClient(timeout=5) as http:
        try:
            probe = (await http.get(f"http://127.0.0.1:{port}/")).status_code
        except httpx.HTTPError as exc:
            probe = type(exc).__name__  # type: ignore[assignment]
    result: dict[str, object] = {"server": name, "normal request meanwhile": probe}
    for kind, tasks in jobs.items():
        held = await asyncio.gather(*tasks, return_exceptions=True)
        result[f"{kind} held"] = f"{sum(h is True for h in held)}/{sockets}"
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=300, help="Hostile sockets of each kind.")
    parser.add_argument("--hold", type=float, default=12.0, help="How long each hostile socket tries.")
    parser.add_argument("--timeout", type=int, default=5, help="The servers' timeouts, in seconds.")
    parser.add_argument("--servers", default="uvicorn,hypercorn,granian,uvicorn+deadlines")
    args = parser.parse_args()
    cap = args.sockets * 4  # room for every hostile socket plus the probe: the cap is not what is measured
    for name in args.servers.split(","):
        port = free_port()
        with running(commands(port, args.timeout, cap)[name], port, args.timeout):
            print(asyncio.run(measure(name, port, args.sockets, args.hold)), flush=True)


if __name__ == "__main__":
    main()
