"""Peak server memory while answering `GET /api/chat-messages/` (Waldur's unpaginated listing).

    python -m bench.listing_memory [--megabytes 60] [--message-kb 100] [--baseline-src DIR] [--postgres]

Stores `--megabytes` of message content for one organisation, then asks a real `chatkeep serve` for the
whole listing while sampling the server's resident memory every 10 ms. Prints the response size, the
server's RSS before and at its peak, and the growth as a ratio of the response size. With
`--baseline-src` (another chatkeep `src` directory, e.g. `git archive main` unpacked) the same database is
served by that tree too, in the same run, as the baseline arm.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import insert, update

from bench.servers import Server, _stop, postgres_database, start_chatkeep
from chatkeep.core import conversations
from chatkeep.core.api_tokens import authenticate
from chatkeep.storage.database import Database
from chatkeep.storage.models import CONVERSATIONS, MESSAGES
from chatkeep.storage.types import utcnow

MIB = 1024 * 1024


def models_file(workdir: Path) -> Path:
    path = workdir / "models.yaml"
    path.write_text(
        "providers:\n  none: {type: openai, base_url: 'http://127.0.0.1:9/v1', max_retries: 0}\n"
        "embedded: {enabled: false}\ndefault_model: m\n"
        "models:\n  - {id: m, provider: none, upstream_model: m}\n"
    )
    return path


async def seed(database_url: str, token: str, *, megabytes: int, message_kb: int) -> int:
    """Conversations of 50 messages each, `message_kb` of text per message; returns the message count.

    Plain INSERTs of the columns every schema version has, so a baseline tree's database is seeded alike.
    """
    db = Database(database_url)
    count = megabytes * 1024 // message_kb
    text = ("lorem ipsum " * (message_kb * 1024 // 12 + 1))[: message_kb * 1024]
    try:
        async with db.write() as session:
            principal = (await authenticate(session, secret=token)).principal
        done = 0
        while done < count:
            batch = min(50, count - done)
            async with db.write() as session:
                conversation = await conversations.create(session, principal=principal, user_id="reader")
                parent, now, rows = None, utcnow(), []
                for i in range(batch):
                    row_id = uuid.uuid4()
                    rows.append(
                        dict(
                            id=row_id, org_id=principal.org_id, conversation_id=conversation.id,
                            parent_id=parent, role=("user", "assistant")[i % 2], content=text,
                            sequence_index=i + 1, status="complete", created_at=now, is_flagged=False,
                            severity="none", injection_categories={}, pii_categories={}, action_taken="allow",
                        )
                    )  # fmt: skip
                    parent = row_id
                columns = list(rows[0])
                await session.execute(insert(MESSAGES).values([{c: r[c] for c in columns} for r in rows]))
                await session.execute(
                    update(CONVERSATIONS)
                    .where(CONVERSATIONS.c.id == conversation.id)
                    .values(active_leaf_id=parent, message_count=batch)
                )
            done += batch
        return count
    finally:
        await db.dispose()


def measure(server: Server) -> dict[str, float]:
    """Fetch the listing once while sampling RSS; sizes in MiB."""
    before = server.rss()
    peak = before
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, server.rss())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    size = 0
    with (
        httpx.Client(timeout=600) as http,
        http.stream(
            "GET", f"{server.url}/api/chat-messages/", headers={"Authorization": f"Token {server.token}"}
        ) as response,
    ):
        response.raise_for_status()
        for chunk in response.iter_bytes():
            size += len(chunk)
    seconds = time.monotonic() - started
    stop.set()
    sampler.join()
    return {
        "response MiB": round(size / MIB, 1),
        "RSS before MiB": round(before / MIB, 1),
        "RSS peak MiB": round(peak / MIB, 1),
        "growth MiB": round((peak - before) / MIB, 1),
        "growth / response": round((peak - before) / max(size, 1), 3),
        "seconds": round(seconds, 2),
    }


def run(database_url: str, workdir: Path, name: str, source: Path | None, args: argparse.Namespace) -> None:
    """One arm: its own database, seeded alike, served by `source` (None: this tree)."""
    models = models_file(workdir)
    server = start_chatkeep(name.replace(" ", "-"), workdir, database_url, models, source=source)
    try:
        sizes = {"megabytes": args.megabytes, "message_kb": args.message_kb}
        count = asyncio.run(seed(database_url, server.token, **sizes))
        measure(server)  # warm: the first request pays for imports and caches
        print(name, f"({count} messages of {args.message_kb} KiB)", measure(server), flush=True)
    finally:
        _stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=60, help="Message content to store.")
    parser.add_argument("--message-kb", type=int, default=100, help="Size of each message.")
    parser.add_argument("--baseline-src", help="Another chatkeep src directory: the baseline arm.")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL (CHATKEEP_BENCH_POSTGRES).")
    args = parser.parse_args()
    arms: list[tuple[str, Path | None]] = [("this tree", None)]
    if args.baseline_src:
        arms.insert(0, ("baseline", Path(args.baseline_src)))
    for name, source in arms:
        with tempfile.TemporaryDirectory(prefix="chatkeep-listing-") as tmp:
            workdir = Path(tmp)
            if args.postgres:
                with postgres_database() as url:
                    run(url, workdir, name, source, args)
            else:
                run(f"sqlite+aiosqlite:///{workdir / 'bench.db'}", workdir, name, source, args)


if __name__ == "__main__":
    main()
