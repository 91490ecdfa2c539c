"""Hostile payloads beside normal traffic: does one tenant's expensive request hold up everyone else?

For each arm (this tree, and with `--baseline SRC` another chatkeep `src` in the same run) a chatkeep
server on SQLite and the mock upstream run; after an untimed warm-up (a server's first turns load the
tokenizer and open the upstream client), a steady stream of normal buffered chat turns (with a session)
and `/healthz` probes is timed twice: quiet, and while hostile clients send back to back
- `POST …/sessions` with 20 initial messages of U+FDFA (which NFKC expands 18-fold), about 3 MB, and
- `POST …/chat` with one 20 MB message.
The figures are the p50 and p99 latency of the normal requests and of `/healthz` in each phase (target
under 100 ms while hostile requests run), and how many hostile requests were answered and how.

    .venv/bin/python -m bench.hostile_load [--seconds 15] [--baseline path/to/old/src]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.servers import ORG, running, start_chatkeep, start_upstream, write_models_file

HOSTILE_SESSION = {
    "userId": "hostile",
    "initialMessages": [{"role": "user", "content": "\ufdfa" * 50_000} for _ in range(20)],
}
HOSTILE_CHAT = {"modelId": "bench-buffered", "messages": [{"role": "user", "content": "a " * 10_000_000}]}
# Seconds of normal traffic before the timed phases; without it the quiet phase timed a cold start.
WARM_UP_SECONDS = 3.0


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def normal_traffic(url: str, token: str, stop: float, out: dict[str, list[float]]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{url}/api/v3/organizations/{ORG}/ai"
    async with httpx.AsyncClient(timeout=120) as client:
        session = (await client.post(f"{base}/sessions", json={"userId": "normal"}, headers=headers)).json()
        body = {"modelId": "bench-buffered", "sessionId": session["sessionId"], "maxTokens": 32}

        async def turns() -> None:
            while time.monotonic() < stop:
                started = time.perf_counter()
                message = {"role": "user", "content": "What is the capital of Norway?"}
                response = await client.post(
                    f"{base}/chat", json={**body, "messages": [message]}, headers=headers
                )
                out["chat"].append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    out["chat_errors"].append(response.status_code)
                await asyncio.sleep(0.05)

        async def probes() -> None:
            while time.monotonic() < stop:
                started = time.perf_counter()
                await client.get(f"{url}/healthz")
                out["healthz"].append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.05)

        await asyncio.gather(turns(), probes())


async def hostile_traffic(url: str, token: str, stop: float, answers: Counter[str]) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    base = f"{url}/api/v3/organizations/{ORG}/ai"
    bodies = [("sessions", json.dumps(HOSTILE_SESSION)), ("chat", json.dumps(HOSTILE_CHAT))]
    async with httpx.AsyncClient(timeout=300) as client:

        async def loop(path: str, raw: str) -> None:
            while time.monotonic() < stop:
                response = await client.post(f"{base}/{path}", content=raw, headers=headers)
                answers[f"{path} {response.status_code}"] += 1

        await asyncio.gather(*(loop(path, raw) for path, raw in bodies))


async def phase(url: str, token: str, seconds: float, hostile: bool) -> dict[str, Any]:
    out: dict[str, list[float]] = {"chat": [], "healthz": [], "chat_errors": []}
    answers: Counter[str] = Counter()
    stop = time.monotonic() + seconds
    tasks = [normal_traffic(url, token, stop, out)]
    if hostile:
        tasks.append(hostile_traffic(url, token, stop, answers))
    await asyncio.gather(*tasks)
    return {
        "chat p50 ms": quantile(out["chat"], 0.5),
        "chat p99 ms": quantile(out["chat"], 0.99),
        "healthz p50 ms": quantile(out["healthz"], 0.5),
        "healthz p99 ms": quantile(out["healthz"], 0.99),
        "healthz max ms": max(out["healthz"], default=float("nan")),
        "normal turns": len(out["chat"]),
        "normal errors": len(out["chat_errors"]),
        "hostile answers": dict(answers),
    }


def run_arm(name: str, source: Path | None, seconds: float, workdir: Path) -> dict[str, Any]:
    with running(start_upstream(workdir, deltas=16, interval=0.005)) as upstream:
        models = write_models_file(workdir, upstream)
        database = f"sqlite+aiosqlite:///{workdir / name}.db"
        with running(start_chatkeep(name, workdir, database, models, source=source)) as server:
            asyncio.run(phase(server.url, server.token, WARM_UP_SECONDS, hostile=False))
            quiet = asyncio.run(phase(server.url, server.token, seconds, hostile=False))
            loud = asyncio.run(phase(server.url, server.token, seconds, hostile=True))
    return {"quiet": quiet, "hostile": loud}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument(
        "--baseline", type=Path, help="another chatkeep src directory, measured in the same run"
    )
    args = parser.parse_args()
    arms: list[tuple[str, Path | None]] = [("chatkeep", None)]
    if args.baseline:
        arms.append(("baseline", args.baseline))
    results: dict[str, Any] = {"load average": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="chatkeep-hostile-") as tmp:
        for name, source in arms:
            results[name] = run_arm(name, source, args.seconds, Path(tmp))
    print(
        "| arm | phase | chat p50 | chat p99 | /healthz p50 | /healthz p99 | /healthz max | turns | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, _ in arms:
        for phase_name in ("quiet", "hostile"):
            r = results[name][phase_name]
            print(
                f"| {name} | {phase_name} | {r['chat p50 ms']:.1f} | {r['chat p99 ms']:.1f} | "
                f"{r['healthz p50 ms']:.1f} | {r['healthz p99 ms']:.1f} | {r['healthz max ms']:.1f} | "
                f"{r['normal turns']} | {r['normal errors']} |"
            )
        print(f"hostile answers ({name}): {results[name]['hostile']['hostile answers']}")
    print(f"load average: {statistics.fmean(results['load average']):.2f}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"hostile-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
