"""Measure what the limits cost: per API call (request limit) and per turn (monthly quota's ledger sum).

Run: .venv/bin/python bench/limits_bench.py [--postgres URL] [--redis URL]
(writes bench/results/limits.json; defaults: SQLite in a temp dir, Redis redis://127.0.0.1:6379/15)

Per call: an authenticated GET through the in-process app, and the limit check alone (unlimited: the
config is parsed, nothing counted; limited: counted in process or in Redis), as a share of that GET.
Per turn: the ledger sum over one organisation's month with 1k, 10k and 100k usage rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from tests.support import make_tenant  # noqa: E402

from chatkeep.app import create_app  # noqa: E402
from chatkeep.core import api_tokens  # noqa: E402
from chatkeep.core.limits import Limits, month_window, tokens_used  # noqa: E402
from chatkeep.core.organisations import get_by_name_or_raise  # noqa: E402
from chatkeep.core.principals import Principal, Role  # noqa: E402
from chatkeep.settings import Settings  # noqa: E402
from chatkeep.storage.database import Database  # noqa: E402
from chatkeep.storage.migrate import migrate  # noqa: E402
from chatkeep.storage.models import UsageRecord  # noqa: E402
from chatkeep.storage.window_counters import RedisCounter  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "limits.json"
CALLS = 400  # per variant and round
ROUNDS = 5


async def per_call(database_url: str, redis_url: str, prefix: str) -> dict[str, float]:
    """Median microseconds: one authenticated GET through the app, and the limit check alone per variant.

    The check runs after authentication, which already read the organisation row, so it adds no query;
    timing it alone keeps this machine's noise (aiosqlite thread hops, other processes) out of the figure.
    """
    db = Database(database_url)
    await migrate(db)
    tenant = await make_tenant(db)
    async with db.read() as session:
        caller = await api_tokens.authenticate(session, secret=tenant.service)
    redis_counter = RedisCounter(redis_url, prefix=prefix)
    variants = {
        "unlimited (config parsed)": Limits(),
        "limited, in-process": Limits(requests_per_minute=10**9),
        "limited, redis": Limits(redis_counter, requests_per_minute=10**9),
    }
    samples: dict[str, list[float]] = {name: [] for name in ["GET /sessions", *variants]}
    app = create_app(Settings(database_url=database_url, bootstrap=False, auto_migrate=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            url = f"/api/v3/organizations/{tenant.name}/ai/sessions"
            headers = {"Authorization": f"Bearer {tenant.service}"}
            for _ in range(ROUNDS):
                started = time.perf_counter()
                for _ in range(CALLS):
                    assert (await client.get(url, headers=headers)).status_code == 200
                samples["GET /sessions"].append((time.perf_counter() - started) / CALLS * 1e6)
                for name, limits in variants.items():
                    started = time.perf_counter()
                    for _ in range(CALLS):
                        # As the dependencies do: the config authentication read with the token.
                        await limits.check_request(principal=caller.principal, config=caller.config)
                    samples[name].append((time.perf_counter() - started) / CALLS * 1e6)
    await redis_counter.aclose()
    await db.dispose()
    return {name: statistics.median(values) for name, values in samples.items()}


async def per_turn(database_url: str) -> dict[int, float]:
    """Median milliseconds of the month-to-date ledger sum, by the organisation's rows this month."""
    db = Database(database_url)
    await migrate(db)
    tenant = await make_tenant(db)
    async with db.read() as session:
        org = await get_by_name_or_raise(session, name=tenant.name)
    principal = Principal(org_id=org.id, org_name=org.name, user_id="u", role=Role.SERVICE)
    start, end = month_window(time.time())
    results: dict[int, float] = {}
    inserted = 0
    for target in (1_000, 10_000, 100_000):
        rows = [
            {
                "id": uuid.uuid4(),
                "org_id": org.id,
                "user_id": "u",
                "model": "m",
                "input_tokens": 10,
                "output_tokens": 5,
                "created_at": start + timedelta(seconds=i % 86_400),
            }
            for i in range(target - inserted)
        ]
        async with db.write() as session:
            for chunk in range(0, len(rows), 5_000):
                await session.execute(insert(UsageRecord), rows[chunk : chunk + 5_000])
        inserted = target
        timings = []
        for _ in range(15):
            async with db.read() as session:
                started = time.perf_counter()
                assert await tokens_used(session, principal=principal, start=start, end=end) == 15 * target
                timings.append((time.perf_counter() - started) * 1000)
        results[target] = statistics.median(timings)
    await db.dispose()
    return results


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="postgresql+asyncpg://… database to use (it gets test tenants)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        urls = {"sqlite": f"sqlite+aiosqlite:///{tmp}/bench.db"}
        if args.postgres:
            urls["postgres"] = args.postgres
        prefix = f"chatkeep-bench-{uuid.uuid4().hex[:8]}"
        report: dict[str, Any] = {"at": datetime.now(UTC).isoformat(), "calls": {}, "quota_ms": {}}
        for backend, url in urls.items():
            calls = await per_call(url, args.redis, prefix)
            report["calls"][backend] = calls
            report["quota_ms"][backend] = await per_turn(url)
        redis = Redis.from_url(args.redis)
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    for backend, calls in report["calls"].items():
        baseline = calls["GET /sessions"]
        print(f"\n{backend}: µs per call (median of {ROUNDS} rounds of {CALLS}); share of one GET")
        for name, micros in calls.items():
            print(f"  {name:<26} {micros:9.1f} µs   {micros / baseline:6.1%}")
        print(f"{backend}: month-to-date ledger sum (per turn, only when a quota applies)")
        for rows, millis in report["quota_ms"][backend].items():
            print(f"  {rows:>7} rows this month   {millis:8.2f} ms")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
