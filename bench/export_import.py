"""Export and import of a large organisation: time and peak memory, against a ten-times smaller one.

    .venv/bin/python -m bench.export_import [--messages 100000] [--postgres postgresql://…/postgres]

An organisation of N messages (conversations of 100 messages each; about 300 characters per message, a
guard verdict on every tenth, a usage row per answer) is written to a SQLite database. Then the real
commands run, each as its own process: `chatkeep export --org bench > file.jsonl`, and
`chatkeep import file.jsonl` into a fresh SQLite database (and into a fresh PostgreSQL database with
`--postgres`). The baseline arm is the same organisation with N/10 messages, in the same run: streaming
means time grows with N while peak memory (each process's maximum resident set, from wait4) stays put,
so the "ratio" column should read about 10 for time and about 1 for memory. Prints a Markdown table and
writes bench/results/export_import-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.figures import fmt, machine, table, write_result

PER_CONVERSATION = 100
TEXT = "The tide came in slowly over the flats, and the gulls argued about it for most of the evening. " * 3


async def fill(url: str, messages: int) -> None:
    """An organisation `bench` holding `messages` messages, written with plain batched INSERTs."""
    from sqlalchemy import insert

    from chatkeep.core import organisations
    from chatkeep.storage.database import Database
    from chatkeep.storage.migrate import migrate
    from chatkeep.storage.models import CONVERSATIONS, MESSAGES, USAGE_RECORDS
    from chatkeep.storage.types import utcnow

    db = Database(url)
    await migrate(db)
    async with db.write() as session:
        org_id = (await organisations.create(session, name="bench")).id
    for start in range(0, messages, PER_CONVERSATION * 10):
        conversations, rows, usage = [], [], []
        for c in range(start, min(start + PER_CONVERSATION * 10, messages), PER_CONVERSATION):
            conversation_id, parent, now = uuid.uuid4(), None, utcnow()
            count = min(PER_CONVERSATION, messages - c)
            for i in range(count):
                message_id = uuid.uuid4()
                flagged = i % 10 == 3
                rows.append(
                    {
                        "id": message_id,
                        "org_id": org_id,
                        "conversation_id": conversation_id,
                        "parent_id": parent,
                        "role": "user" if i % 2 == 0 else "assistant",
                        "content": TEXT,
                        "blocks": None,
                        "sequence_index": i + 1,
                        "status": "complete",
                        "model": "m",
                        "input_tokens": None,
                        "output_tokens": None,
                        "is_flagged": flagged,
                        "severity": "medium" if flagged else "none",
                        "injection_categories": {},
                        "pii_categories": {"email": "medium"} if flagged else {},
                        "action_taken": "redact" if flagged else "allow",
                        "created_at": now,
                    }
                )
                if i % 2:
                    usage.append(
                        {
                            "id": uuid.uuid4(),
                            "org_id": org_id,
                            "user_id": "u",
                            "token_id": None,
                            "conversation_id": conversation_id,
                            "model": "m",
                            "input_tokens": 50,
                            "output_tokens": 70,
                            "cost_cents": 0.01,
                            "latency_ms": 300,
                            "status": "complete",
                            "kind": "chat",
                            "created_at": now,
                        }
                    )
                parent = message_id
            conversations.append(
                {
                    "id": conversation_id,
                    "org_id": org_id,
                    "user_id": "u",
                    "session_group": None,
                    "title": "bench",
                    "model": "m",
                    "metadata": {},
                    "status": "active",
                    "archived": False,
                    "expires_at": None,
                    "active_leaf_id": parent,
                    "message_count": count,
                    "total_tokens": 0,
                    "is_flagged": True,
                    "max_severity": "medium",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        async with db.write() as session:
            await session.execute(insert(CONVERSATIONS), conversations)
            await session.execute(insert(MESSAGES), rows)
            await session.execute(insert(USAGE_RECORDS), usage)
    await db.dispose()


def run(args: list[str], url: str, *, stdout: Any = subprocess.DEVNULL) -> tuple[float, float]:
    """Run `chatkeep ARGS` against `url`; (seconds, peak resident MiB of that process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATKEEP_")}
    env["CHATKEEP_DATABASE_URL"] = url
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "chatkeep", *args], env=env, stdout=stdout, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(
            f"chatkeep {' '.join(args)} failed: {process.stderr.read().decode() if process.stderr else ''}"
        )
    return elapsed, usage.ru_maxrss / 1024  # Linux reports KiB


async def pg_database(admin_url: str) -> str:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    name = f"chatkeep_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)


async def drop_pg_database(admin_url: str, url: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    admin, name = make_url(admin_url), make_url(url).database
    conn = await asyncpg.connect(
        host=admin.host, port=admin.port or 5432, user=admin.username, database=admin.database
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def measure(messages: int, tmp: Path, postgres: str | None) -> dict[str, Any]:
    source = f"sqlite+aiosqlite:///{tmp}/source-{messages}.db"
    asyncio.run(fill(source, messages))
    export_file = tmp / f"bench-{messages}.jsonl"
    with export_file.open("wb") as out:
        seconds, peak = run(["export", "--org", "bench"], source, stdout=out)
    figures: dict[str, Any] = {
        "export": {"seconds": seconds, "peak_mib": peak, "file_mib": export_file.stat().st_size / 2**20}
    }
    targets = {"import sqlite": f"sqlite+aiosqlite:///{tmp}/target-{messages}.db"}
    if postgres:
        targets["import postgres"] = asyncio.run(pg_database(postgres))
    for name, url in targets.items():
        try:
            run(["migrate"], url)  # schema creation is not the import's cost
            seconds, peak = run(["import", str(export_file)], url)
            figures[name] = {"seconds": seconds, "peak_mib": peak}
        finally:
            if postgres and url.startswith("postgresql"):
                asyncio.run(drop_pg_database(postgres, url))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server to import into as well")
    args = parser.parse_args()
    baseline_size = args.messages // 10
    with tempfile.TemporaryDirectory() as tmp:
        baseline = measure(baseline_size, Path(tmp), args.postgres)
        large = measure(args.messages, Path(tmp), args.postgres)
    rows = []
    for step in large:
        for what in ("seconds", "peak_mib"):
            small, big = baseline[step][what], large[step][what]
            rows.append([step, what, fmt(small, 2), fmt(big, 2), fmt(big / small, 2)])
    headers = ["step", "figure", f"{baseline_size:,} messages", f"{args.messages:,} messages", "ratio"]
    path = write_result(
        "export_import",
        {
            "machine": machine(),
            "messages": args.messages,
            "baseline_messages": baseline_size,
            "baseline": baseline,
            "large": large,
        },
    )
    print(table(headers, rows))
    print(
        f"\nexport file: {fmt(large['export']['file_mib'], 1)} MiB for {args.messages:,} messages; "
        f"written to {path}"
    )


if __name__ == "__main__":
    main()
