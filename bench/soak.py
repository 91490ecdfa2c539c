"""Soak: steady mixed traffic against a real `chatkeep serve`, watching for anything that creeps.

    python -m bench.soak [--minutes 10] [--rate 4] [--backend sqlite|postgres|both]

At `--rate` operations a second, cycling through: create a Quant session, a buffered turn in it, a
streamed turn in it, a Waldur stream (new thread), a listing of sessions and one of a thread's messages.
Every 10 s it samples the server's resident memory, its open file descriptors and (PostgreSQL) the
database connections it holds. At the end it checks that no message was lost (every turn answered is
stored, complete, in its session or thread) and prints, per backend: operations, errors, lost messages,
and each gauge's first-minute and last-minute means with their ratio (flat means near 1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from sqlalchemy.engine import make_url

from bench.servers import (
    ORG,
    Server,
    _stop,
    postgres_database,
    start_chatkeep,
    start_upstream,
    write_models_file,
)

SAMPLE_SECONDS = 10.0


@dataclass
class Soak:
    """What the traffic did and what it left behind."""

    operations: int = 0
    errors: list[str] = field(default_factory=list)
    turns: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # session → turns answered
    threads: list[str] = field(default_factory=list)  # Waldur threads whose one turn was answered
    samples: list[tuple[float, float, int, int | None]] = field(default_factory=list)  # t, MiB, fds, db
    lost: int = 0


def _fds(server: Server) -> int:
    proc = psutil.Process(server.process.pid)
    return sum(p.num_fds() for p in [proc, *proc.children(recursive=True)])


async def _db_connections(database_url: str) -> int | None:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return None
    conn = await asyncpg.connect(user=url.username, host=url.host, port=url.port or 5432, database="postgres")
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", url.database)
        )
    finally:
        await conn.close()


async def _operation(http: httpx.AsyncClient, soak: Soak, kind: str, token: str) -> None:
    quant = f"/api/v3/organizations/{ORG}/ai"
    bearer = {"Authorization": f"Bearer {token}"}
    sessions = list(soak.turns)
    sid = sessions[-1] if sessions else None
    if kind == "session" or sid is None:
        response = await http.post(f"{quant}/sessions", json={"userId": "soak"}, headers=bearer)
        _check(soak, kind, response, 201)
        soak.turns[str(response.json()["sessionId"])] += 0
    elif kind in ("buffered", "streamed"):
        body = {"modelId": "bench-stream", "sessionId": sid, "messages": [{"role": "user", "content": "hi"}]}
        path = "/chat" if kind == "buffered" else "/chat/stream"
        response = await http.post(f"{quant}{path}", json=body, headers=bearer)
        ok = _check(soak, kind, response, 200)
        if ok and kind == "streamed" and "event: done" not in response.text:
            soak.errors.append(f"{kind}: no done event")
            ok = False
        if ok:
            soak.turns[sid] += 1
    elif kind == "waldur":
        response = await http.post(
            "/api/chat/stream/", json={"input": "hello"}, headers={"Authorization": f"Token {token}"}
        )
        if _check(soak, kind, response, 200):
            records = [json.loads(line) for line in response.text.splitlines() if line]
            if "e" in records[-2] or not records[-1]["m"].get("done"):
                soak.errors.append("waldur: stream did not finish")
            else:
                soak.threads.append(records[0]["m"]["thread_uuid"])
    elif kind == "list sessions":
        _check(
            soak, kind, await http.get(f"{quant}/sessions", params={"userId": "soak"}, headers=bearer), 200
        )
    else:  # list a thread's messages
        thread = soak.threads[-1] if soak.threads else None
        params = {"thread": thread} if thread else {}
        response = await http.get(
            "/api/chat-messages/", params=params, headers={"Authorization": f"Token {token}"}
        )
        _check(soak, kind, response, 200)


def _check(soak: Soak, kind: str, response: httpx.Response, status: int) -> bool:
    if response.status_code != status:
        soak.errors.append(f"{kind}: {response.status_code} {response.text[:120]}")
        return False
    return True


async def _traffic(server: Server, database_url: str, minutes: float, rate: float) -> Soak:
    soak = Soak()
    kinds = itertools.cycle(["session", "buffered", "streamed", "waldur", "list sessions", "list messages"])
    started = time.monotonic()
    end = started + minutes * 60
    next_sample = started
    running: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        for n in itertools.count():
            now = time.monotonic()
            if now >= end:
                break
            if now >= next_sample:
                mib = server.rss() / 1024 / 1024
                soak.samples.append((now - started, mib, _fds(server), await _db_connections(database_url)))
                next_sample += SAMPLE_SECONDS

            async def one(kind: str) -> None:
                try:
                    await _operation(http, soak, kind, server.token)
                except (httpx.HTTPError, ValueError, KeyError, IndexError) as exc:
                    soak.errors.append(f"{kind}: {type(exc).__name__} {exc}")

            task = asyncio.create_task(one(next(kinds)))
            running.add(task)
            task.add_done_callback(running.discard)
            soak.operations += 1
            # Absolute times, so the rate does not drift with the time each launch takes.
            await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.monotonic()))
        await asyncio.gather(*running)
        await _count_lost(http, soak, server.token)
    return soak


async def _count_lost(http: httpx.AsyncClient, soak: Soak, token: str) -> None:
    """Every answered turn must be stored, complete: per session, and per Waldur thread."""
    bearer = {"Authorization": f"Bearer {token}"}
    lost = 0
    for sid, answered in soak.turns.items():
        response = await http.get(f"/api/v3/organizations/{ORG}/ai/sessions/{sid}", headers=bearer)
        stored = [
            m for m in response.json()["messages"] if m["role"] == "assistant" and m["status"] == "complete"
        ]
        lost += max(0, answered - len(stored))
    for thread in soak.threads:
        response = await http.get(
            "/api/chat-messages/", params={"thread": thread}, headers={"Authorization": f"Token {token}"}
        )
        if not any(m["role"] == "assistant" and m["content"] for m in response.json()):
            lost += 1
    if lost:
        soak.errors.append(f"{lost} answered messages were not stored")
    soak.lost = lost


def _gauge(samples: list[tuple[float, float, int, int | None]], index: int) -> str:
    points = [(sample[0], sample[index]) for sample in samples if sample[index] is not None]
    if len(points) < 2:
        return "n/a"
    first = [v for t, v in points if t < 60] or [points[0][1]]
    last_start = points[-1][0] - 60
    last = [v for t, v in points if t >= last_start]
    a, b = statistics.mean(first), statistics.mean(last)
    return f"{a:.1f} -> {b:.1f} (x{b / a:.2f})" if a else f"{a} -> {b}"


@contextlib.contextmanager
def _database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "postgres":
        with postgres_database("chatkeep_soak") as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{workdir / 'soak.db'}"


def run(backend: str, minutes: float, rate: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="chatkeep-soak-") as tmp, _database(backend, Path(tmp)) as url:
        workdir = Path(tmp)
        upstream = start_upstream(workdir, deltas=16, interval=0.02)
        try:
            server = start_chatkeep("chatkeep", workdir, url, write_models_file(workdir, upstream))
            try:
                soak = asyncio.run(_traffic(server, url, minutes, rate))
            finally:
                _stop(server)
        finally:
            _stop(upstream)
    return {
        "backend": backend,
        "minutes": minutes,
        "operations": soak.operations,
        "errors": len(soak.errors),
        "first errors": soak.errors[:3],
        "lost messages": soak.lost,
        "turns answered": sum(soak.turns.values()) + len(soak.threads),
        "RSS MiB (first min -> last min)": _gauge(soak.samples, 1),
        "open fds": _gauge(soak.samples, 2),
        "DB connections": _gauge(soak.samples, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="How long each backend is soaked.")
    parser.add_argument("--rate", type=float, default=4.0, help="Operations per second.")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        print(json.dumps(run(backend, args.minutes, args.rate)), flush=True)


if __name__ == "__main__":
    main()
