"""Turn cost against conversation length: what a turn on a long conversation costs chatkeep.

    .venv/bin/python -m bench.history [--turns 20] [--baseline /tmp/base/src]

A conversation is filled with N stored messages (10, 1,000 and 5,000), then turns are run on it through
the turn engine on SQLite, with an instant in-process model (so only chatkeep's own work is timed:
placing the input, reading the history, fitting it to the window, storing the answer and its usage).
Each length is measured for a model with a 4,096- and a 32,768-token window. With `--baseline` (another
chatkeep `src`, e.g. `git archive HEAD~3 src | tar -x -C /tmp/base`) the same runs are made with that
code in the same run, interleaved, and the table shows the ratio. Every measurement runs in a fresh
process. Prints a Markdown table and writes bench/results/history-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.figures import fmt, machine, table, write_result

LENGTHS = (10, 1_000, 5_000)
WINDOWS = (4_096, 32_768)
USER_TEXT = "Tell me more about the sea, the waves and the wind, in a few sentences please. " * 3


async def measure(length: int, window: int, turns: int) -> list[float]:
    """Milliseconds per turn on a conversation of `length` stored messages (runs in a worker process)."""
    from chatkeep.core import conversations, organisations
    from chatkeep.core.org_config import AIConfig
    from chatkeep.core.principals import Principal, Role
    from chatkeep.core.turns import TurnEngine, TurnRequest
    from chatkeep.providers.base import ChatMessage, Finish, ModelInfo, ProviderEvent, TextDelta, Usage
    from chatkeep.providers.registry import ModelRegistry
    from chatkeep.storage.database import Database
    from chatkeep.storage.migrate import migrate

    class Instant:
        name = "instant"

        async def stream(self, request: Any) -> AsyncIterator[ProviderEvent]:
            yield TextDelta("The sea is calm tonight.")
            yield Usage(10, 6)
            yield Finish("stop")

        async def embed(self, texts: list[str], *, model: str, dimensions: int | None = None) -> Any:
            raise NotImplementedError

        async def aclose(self) -> None:
            return None

    model = ModelInfo(
        id="bench", provider="instant", upstream_model="bench", context_window=window, max_output_tokens=512
    )
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/history.db")
        await migrate(db)
        async with db.write() as session:
            org = await organisations.create(session, name="bench")
            principal = Principal(org_id=org.id, org_name="bench", user_id="svc", role=Role.SERVICE)
            conversation = await conversations.create(session, principal=principal, user_id="u")
            stored = [
                conversations.NewMessage(role, USER_TEXT if role == "user" else USER_TEXT * 2)
                for _ in range(length // 2)
                for role in ("user", "assistant")
            ]
            await conversations.append_messages(session, conversation=conversation, messages=stored)
        engine = TurnEngine(db, ModelRegistry([model], {"instant": Instant()}))
        # As the API calls it: the config read with the token (older code, as a baseline, has no such field).
        known = TurnRequest.__dataclass_fields__
        request = TurnRequest(
            principal=principal,
            messages=(ChatMessage.of_text("user", "And then?"),),
            conversation_id=conversation.id,
            **({"config": AIConfig()} if "config" in known else {}),
        )
        timings = []
        for _ in range(turns + 2):  # two warm-up turns
            started = time.perf_counter()
            if hasattr(engine, "open"):  # TurnEngine.open; a baseline before it had prepare + stream
                turn = await engine.open(request)
                async for _event in turn.events():
                    pass
            else:
                prepared = await engine.prepare(request)
                async for _event in engine.stream(prepared):
                    pass
            timings.append((time.perf_counter() - started) * 1000)
        await db.dispose()
    return timings[2:]


def run_worker(source: Path | None, length: int, window: int, turns: int) -> float:
    """The median ms per turn, measured in a fresh process (with `source` first on the path if given)."""
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source.resolve())
    spec = json.dumps({"length": length, "window": window, "turns": turns})
    done = subprocess.run(
        [sys.executable, "-m", "bench.history", "--worker", spec],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return float(statistics.median(json.loads(done.stdout)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=20, help="measured turns per conversation")
    parser.add_argument("--baseline", type=Path, help="another chatkeep src directory to compare with")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        spec = json.loads(args.worker)
        print(json.dumps(asyncio.run(measure(spec["length"], spec["window"], spec["turns"]))))
        return
    arms: dict[str, Path | None] = {"chatkeep": None}
    if args.baseline is not None:
        arms["baseline"] = args.baseline
    rows, results = [], []
    for window in WINDOWS:
        for length in LENGTHS:
            figures = {name: run_worker(src, length, window, args.turns) for name, src in arms.items()}
            results.append({"window": window, "messages": length, "ms_per_turn": figures})
            row = [f"{window:,}", f"{length:,}", *(fmt(figures[name], 1) for name in arms)]
            if "baseline" in figures:
                row.append(fmt(figures["chatkeep"] / figures["baseline"], 2))
            rows.append(row)
            print(f"  window {window}, {length} messages: done", flush=True)
    headers = ["window", "messages", *(f"{name} ms/turn" for name in arms)]
    if args.baseline is not None:
        headers.append("chatkeep / baseline")
    path = write_result("history", {"machine": machine(), "turns": args.turns, "results": results})
    print()
    print(table(headers, rows))
    print(f"\nmedian of {args.turns} turns each, SQLite; written to {path}")


if __name__ == "__main__":
    main()
