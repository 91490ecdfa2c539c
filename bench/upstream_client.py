"""CPU per streamed upstream call: the OpenAI-compatible provider alone, against the mock upstream.

    .venv/bin/python -m bench.upstream_client --baseline /tmp/base/src [--calls 400] [--rounds 3]

The mock upstream (bench/upstream.py) streams `--deltas` chunks per answer with no pause, so the time is
the client's own work: building and sending the request, reading and parsing the SSE body, turning chunks
into provider events. Each arm runs in a fresh process that makes `--calls` streamed calls, `--concurrency`
at a time, after warm-up calls, and reports process CPU time per call. Arms:

- `baseline`: the provider of another chatkeep `src` (`git archive main src | tar -x -C /tmp/base`),
- `chatkeep`: this tree's provider,
- `chatkeep+httpx-sse`: this tree's provider with the body read by httpx-sse's `EventSource` instead of
  providers/openai/sse.py (the maintained parser, over httpx's text line decoder).

Rounds interleave the arms so a noisy neighbour hits each alike; the table shows the median round and the
ratio to the baseline. `--profile DIR` also records each arm with py-spy (raw collapsed stacks).
Writes bench/results/upstream_client-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.figures import fmt, machine, table, write_result

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


async def _httpx_sse_chunks(response: Any) -> AsyncIterator[dict[str, Any]]:
    """The chat-completion chunks read through httpx-sse (the comparison arm's parser)."""
    import orjson
    from httpx_sse import EventSource

    async for sse in EventSource(response).aiter_sse():
        if sse.data.startswith("[DONE]"):
            return
        yield orjson.loads(sse.data)


async def measure(base_url: str, calls: int, concurrency: int, parser: str) -> dict[str, float]:
    """CPU and wall milliseconds per streamed call (runs in a worker process)."""
    from chatkeep.providers.base import ChatMessage, ChatRequest, TextDelta

    try:
        from chatkeep.providers.openai import OpenAICompatProvider
    except ImportError:  # chatkeep before providers/ was grouped per provider
        from chatkeep.providers.openai_compat import OpenAICompatProvider  # type: ignore[no-redef]
    if parser == "httpx-sse":
        import chatkeep.providers.openai.provider as module

        module.read_chunks = _httpx_sse_chunks  # type: ignore[assignment]

    provider = OpenAICompatProvider("bench", base_url=base_url, api_key="sk-bench", max_retries=0)
    request = ChatRequest(
        model="bench-stream",
        messages=(ChatMessage.of_text("user", "Tell me about the sea."),),
        max_tokens=256,
    )

    async def one() -> int:
        pieces = 0
        async for event in provider.stream(request):
            pieces += isinstance(event, TextDelta)
        return pieces

    async def batch(n: int) -> list[int]:
        done: list[int] = []
        queue = iter(range(n))

        async def worker() -> None:
            for _ in queue:
                done.append(await one())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done

    await batch(max(concurrency * 4, 40))  # warm-up: imports, pool, caches
    cpu, wall = time.process_time(), time.perf_counter()
    pieces = await batch(calls)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await provider.aclose()
    return {"cpu_ms": cpu * 1000 / calls, "wall_ms": wall * 1000 / calls, "deltas": statistics.mean(pieces)}


def run_arm(source: Path, spec: dict[str, Any], profile: Path | None, label: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": f"{source.resolve()}{os.pathsep}{ROOT}"}
    command = [sys.executable, "-m", "bench.upstream_client", "--worker", json.dumps(spec)]
    if profile is not None:
        out = profile / f"{label}.txt"
        command = ["py-spy", "record", "--format", "raw", "--rate", "500", "-o", str(out), "--", *command]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=True, cwd=ROOT)
    last = [line for line in done.stdout.splitlines() if line.startswith("{")][-1]
    return dict(json.loads(last))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="another chatkeep src directory (required)")
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--deltas", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="record each arm's first round with py-spy here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        spec = json.loads(args.worker)
        figures = asyncio.run(measure(spec["base_url"], spec["calls"], spec["concurrency"], spec["parser"]))
        print(json.dumps(figures), flush=True)
        return
    if args.baseline is None:
        parser.error("--baseline SRC is required (e.g. git archive main src | tar -x -C /tmp/base)")
    if args.profile is not None:
        if shutil.which("py-spy") is None:
            parser.error("--profile needs py-spy on PATH (the [bench] extra)")
        args.profile.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [sys.executable, str(ROOT / "bench" / "upstream.py"), "--port", str(port)]
    command += ["--deltas", str(args.deltas), "--interval", "0"]
    upstream = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert upstream.stdout is not None
        upstream.stdout.readline()  # "upstream ready ..."
        arms = {"baseline": (args.baseline, "sse.py"), "chatkeep": (SRC, "sse.py")}
        arms["chatkeep+httpx-sse"] = (SRC, "httpx-sse")
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in arms}
        for round_ in range(args.rounds):
            for name, (source, chunk_parser) in arms.items():
                spec = {
                    "base_url": f"http://127.0.0.1:{port}/v1",
                    "calls": args.calls,
                    "concurrency": args.concurrency,
                    "parser": chunk_parser,
                }
                profile = args.profile if round_ == 0 else None
                runs[name].append(run_arm(source, spec, profile, name.replace("+", "-")))
            print(f"  round {round_ + 1}: done", flush=True)
    finally:
        upstream.terminate()
        upstream.wait(timeout=10)
    cpu = {name: statistics.median(r["cpu_ms"] for r in results) for name, results in runs.items()}
    wall = {name: statistics.median(r["wall_ms"] for r in results) for name, results in runs.items()}
    rows = [
        [name, fmt(cpu[name], 3), fmt(wall[name], 3), fmt(cpu[name] / cpu["baseline"], 2)] for name in arms
    ]
    path = write_result(
        "upstream_client",
        {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}, "runs": runs},
    )
    print()
    print(table(["arm", "CPU ms / call", "wall ms / call", "CPU vs baseline"], rows))
    print(
        f"\n{args.calls} streamed calls of {args.deltas} chunks, {args.concurrency} at a time, median of "
        f"{args.rounds} rounds; written to {path}"
    )


if __name__ == "__main__":
    main()
