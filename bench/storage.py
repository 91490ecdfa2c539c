"""Storage benchmark: Quant session create/get/list throughput, and list latency as the database grows.

    .venv/bin/python -m bench.storage [--quick] [--backends sqlite,postgres]

Calls the Quant session handlers in process (the code an API call runs, minus HTTP) on a fresh SQLite
file and a fresh PostgreSQL database (created next to CHATKEEP_BENCH_POSTGRES's and dropped at the end).
Throughput: 16 concurrent tasks for a few seconds per operation. Growth: the database is filled with
1k, then 100k, then 1M messages (10 per session, 100 users; bulk inserts through SQLAlchemy Core on
SQLite and COPY on PostgreSQL, not through the API), and at each size the first page of the
organisation's sessions, of one user's sessions, page 21 of the organisation's, and one session with its
history are timed. Flat is the goal: every list is served by an index that starts with org_id.

Prints Markdown tables and writes bench/results/storage-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, insert, text

from bench import servers
from bench.figures import fmt, machine, percentile, table, write_result
from chatkeep.core import api_tokens, organisations
from chatkeep.core.callers import Caller
from chatkeep.core.principals import Role
from chatkeep.dialects.quant import sessions as quant
from chatkeep.dialects.quant.schemas import CreateSessionRequest
from chatkeep.storage.database import Database
from chatkeep.storage.migrate import migrate
from chatkeep.storage.models import Conversation, Message

USERS = 100
PER_SESSION = 10
BATCH = 20_000
COLUMNS_CONVERSATION = [c.name for c in Conversation.__table__.columns]
COLUMNS_MESSAGE = [c.name for c in Message.__table__.columns]


@dataclass
class Tenant:
    db: Database
    principal: Caller  # what every handler is handed: the principal with its organisation's config
    org_id: uuid.UUID


async def open_tenant(url: str) -> Tenant:
    db = Database(url)
    await migrate(db)
    async with db.write() as session:
        org = await organisations.create(session, name="bench")
        issued = await api_tokens.create(session, org=org, user_id="service", role=Role.SERVICE)
    async with db.read() as session:
        principal = await api_tokens.authenticate(session, secret=issued.secret)  # the caller
    return Tenant(db, principal, org.id)


# ---- throughput ----------------------------------------------------------------------------------------


async def throughput(
    op: Callable[[int], Awaitable[Any]], *, tasks: int, seconds: float
) -> dict[str, float | None]:
    """Run `op(i)` from `tasks` concurrent tasks for `seconds`; operations per second and latencies."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def worker() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await op(next(counter))
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    wall = time.perf_counter() - started
    return {
        "ops_per_second": len(latencies) / wall,
        "p50_ms": _ms(percentile(latencies, 50)),
        "p99_ms": _ms(percentile(latencies, 99)),
    }


def _ms(value: float | None) -> float | None:
    return None if value is None else value * 1000


async def measure_throughput(tenant: Tenant, seconds: float) -> dict[str, Any]:
    db, principal = tenant.db, tenant.principal
    created: list[uuid.UUID] = []

    async def create(i: int) -> None:
        body = CreateSessionRequest(userId=f"user-{i % USERS}", sessionGroup="bench")
        created.append(uuid.UUID(str((await quant.create_session(body, principal, db))["id"])))

    async def get(i: int) -> None:
        await quant.get_session(str(created[i % len(created)]), principal, db)

    async def list_(i: int) -> None:
        await quant.list_sessions(principal, db, userId=f"user-{i % USERS}", limit=50, offset=0)

    return {
        "create": await throughput(create, tasks=16, seconds=seconds),
        "get": await throughput(get, tasks=16, seconds=seconds),
        "list": await throughput(list_, tasks=16, seconds=seconds),
    }


# ---- growth --------------------------------------------------------------------------------------------


def generate(org_id: uuid.UUID, first: int, count: int, now: datetime) -> Iterator[tuple[list, list]]:
    """Sessions `first`…`first+count-1`, each with a chain of PER_SESSION messages, in batches of rows."""
    conversations: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for n in range(first, first + count):
        conversation_id = uuid.uuid4()
        created = now - timedelta(seconds=n)
        parent = None
        for depth in range(1, PER_SESSION + 1):
            message_id = uuid.uuid4()
            messages.append(
                {
                    "id": message_id, "org_id": org_id, "conversation_id": conversation_id,
                    "parent_id": parent, "role": "user" if depth % 2 else "assistant",
                    "content": f"message {depth} of session {n}: some ordinary words of a chat",
                    "blocks": None, "sequence_index": depth, "status": "complete", "model": "m",
                    "input_tokens": None, "output_tokens": None, "is_flagged": False, "severity": "none",
                    "injection_categories": {}, "pii_categories": {}, "action_taken": "allow",
                    "created_at": created,
                }
            )  # fmt: skip
            parent = message_id
        conversations.append(
            {
                "id": conversation_id, "org_id": org_id, "user_id": f"user-{n % USERS}",
                "session_group": "bench", "title": f"session {n}", "model": "m", "metadata": {},
                "status": "active", "archived": False, "expires_at": now + timedelta(days=1),
                "active_leaf_id": parent, "message_count": PER_SESSION, "total_tokens": 0,
                "is_flagged": False, "max_severity": "none", "created_at": created, "updated_at": created,
            }
        )  # fmt: skip
        if len(messages) >= BATCH:
            yield conversations, messages
            conversations, messages = [], []
    if messages:
        yield conversations, messages


async def bulk_insert(tenant: Tenant, first: int, count: int) -> float:
    """Insert `count` sessions with their messages; returns the seconds it took."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    async with tenant.db.engine.begin() as conn:
        if tenant.db.is_sqlite:
            for conversations, messages in generate(tenant.org_id, first, count, now):
                await conn.execute(insert(cast(Table, Conversation.__table__)), conversations)
                await conn.execute(insert(cast(Table, Message.__table__)), messages)
        else:
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            for conversations, messages in generate(tenant.org_id, first, count, now):
                await raw.copy_records_to_table(
                    "conversations", records=_records(conversations, COLUMNS_CONVERSATION),
                    columns=COLUMNS_CONVERSATION,
                )  # fmt: skip
                await raw.copy_records_to_table(
                    "messages", records=_records(messages, COLUMNS_MESSAGE), columns=COLUMNS_MESSAGE
                )
    if not tenant.db.is_sqlite:
        async with tenant.db.engine.begin() as conn:
            await conn.execute(text("ANALYZE conversations"))
            await conn.execute(text("ANALYZE messages"))
    return time.perf_counter() - started


def _records(rows: list[dict[str, Any]], columns: list[str]) -> list[tuple[Any, ...]]:
    import json

    def encode(value: Any) -> Any:
        return json.dumps(value) if isinstance(value, dict) else value

    return [tuple(encode(row.get(c)) for c in columns) for row in rows]  # absent: NULL (newer, nullable)


async def timed(op: Callable[[], Awaitable[Any]], rounds: int) -> dict[str, float | None]:
    for _ in range(5):
        await op()
    latencies = []
    for _ in range(rounds):
        started = time.perf_counter()
        await op()
        latencies.append(time.perf_counter() - started)
    return {"p50_ms": _ms(percentile(latencies, 50)), "p99_ms": _ms(percentile(latencies, 99))}


async def measure_growth(tenant: Tenant, sizes: list[int], rounds: int) -> list[dict[str, Any]]:
    db, principal = tenant.db, tenant.principal
    rows = []
    sessions = 0
    for size in sizes:
        target = size // PER_SESSION
        load_seconds = await bulk_insert(tenant, sessions, target - sessions)
        sessions = target
        async with db.read() as session:
            probe = str((await session.execute(text("SELECT id FROM conversations LIMIT 1"))).scalar())
        probe_id = uuid.UUID(probe)
        figures = {
            "list org, page 1": await timed(
                lambda: quant.list_sessions(principal, db, limit=50, offset=0), rounds
            ),
            "list one user, page 1": await timed(
                lambda: quant.list_sessions(principal, db, userId="user-7", limit=50, offset=0), rounds
            ),
            "list org, page 21": await timed(
                lambda: quant.list_sessions(principal, db, limit=50, offset=1000), rounds
            ),
            "get one session (10 messages)": await timed(
                lambda probe_id=probe_id: quant.get_session(str(probe_id), principal, db), rounds  # type: ignore[misc]
            ),
        }  # fmt: skip
        rows.append({"messages": size, "sessions": sessions, "load_seconds": load_seconds, **figures})
        print(f"  {size:>9,} messages loaded in {load_seconds:.1f} s and measured", flush=True)
    return rows


# ---- run -----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def database_url(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'storage.db'}"
    else:
        with servers.postgres_database("chatkeep_storage") as url:
            yield url


async def run_backend(url: str, *, seconds: float, sizes: list[int], rounds: int) -> dict[str, Any]:
    tenant = await open_tenant(url)
    try:
        result: dict[str, Any] = {"throughput": await measure_throughput(tenant, seconds)}
        result["growth"] = await measure_growth(tenant, sizes, rounds)
        return result
    finally:
        await tenant.db.dispose()


def render(results: dict[str, dict[str, Any]]) -> str:
    ops = table(
        ["backend", "operation", "ops/s (16 tasks)", "p50 ms", "p99 ms"],
        [
            [backend, op, fmt(f["ops_per_second"], 0), fmt(f["p50_ms"], 2), fmt(f["p99_ms"], 2)]
            for backend, r in results.items()
            for op, f in r["throughput"].items()
        ],
    )
    names = [
        k
        for k in next(iter(results.values()))["growth"][0]
        if k not in ("messages", "sessions", "load_seconds")
    ]
    growth_rows = []
    for backend, r in results.items():
        base = r["growth"][0]
        for row in r["growth"]:
            for name in names:
                ratio = row[name]["p50_ms"] / base[name]["p50_ms"] if base[name]["p50_ms"] else None
                growth_rows.append(
                    [backend, f"{row['messages']:,}", name, fmt(row[name]["p50_ms"], 2),
                     fmt(row[name]["p99_ms"], 2), fmt(ratio, 2)]
                )  # fmt: skip
    growth = table(["backend", "messages", "query", "p50 ms", "p99 ms", "p50 x smallest"], growth_rows)
    return (
        f"Throughput (Quant session handlers in process)\n\n{ops}\n\nLatency as the data grows\n\n{growth}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, up to 100k messages")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    seconds = 1.5 if args.quick else 3.0
    sizes = [1_000, 100_000] if args.quick else [1_000, 100_000, 1_000_000]
    rounds = 100 if args.quick else 300
    started = time.monotonic()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="chatkeep-storage-") as tmp:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            print(f"{backend} …", flush=True)
            with database_url(backend, Path(tmp)) as url:
                results[backend] = asyncio.run(run_backend(url, seconds=seconds, sizes=sizes, rounds=rounds))
    text_ = render(results)
    elapsed = time.monotonic() - started
    path = write_result(
        "storage", {"machine": machine(), "seconds": round(elapsed), "sizes": sizes, "results": results}
    )
    print()
    print(text_)
    print(
        f"load average {machine()['load_average']}; {elapsed:.0f} s; "
        f"written to {path.relative_to(servers.ROOT)}"
    )


if __name__ == "__main__":
    main()
