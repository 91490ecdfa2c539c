"""Gateway benchmark: what chatkeep adds over calling the upstream directly, side by side with LiteLLM.

    .venv/bin/python -m bench.gateway [--quick]
        [--arms direct,chatkeep-sqlite,chatkeep-pg,litellm,chatkeep-openai,chatkeep-responses]

One run starts a mock OpenAI-compatible upstream (bench/upstream.py: 64 deltas x 20 ms, or everything at
once for buffered calls), chatkeep on SQLite and on PostgreSQL (a fresh database, dropped at the end),
and the LiteLLM proxy (from bench/.venvs/litellm), all pointed at that upstream. The load generator
(bench/loadgen.py) runs in its own process per arm x mode x concurrency; arms are interleaved, so every
arm sees the same machine noise, and figures are reported as differences and ratios against the direct
arm measured in the same run. chatkeep is called the way an app calls it: Quant `chat` and `chat/stream`
with a `sessionId` (history read and the turn stored), the default guards on, service-token auth.
The OpenAI-API arms call chatkeep (SQLite) the way an `openai` SDK app does: `chatkeep-openai` posts to
`/v1/chat/completions` (stateless, as LiteLLM's, but accounted and guarded), `chatkeep-responses` to
`/v1/responses` (each call stored as a new conversation, the SDK's event stream when streaming).

Prints Markdown tables and writes bench/results/gateway-<time>.json. Bounded: every load step has a
request cap and a deadline; --quick takes about two minutes, the full run about ten.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench import servers
from bench.figures import RESULTS, fmt, machine, percentile, signed, table, write_result
from bench.servers import ORG, Server

PROMPT = "Write a short poem about the sea, in four lines, with a title."
TURNS_PER_SESSION = 8  # a session holds at most this many turns, so its history stays conversation-sized
CHATKEEP_RPS_GUESS = 1200  # sizes how many sessions a buffered step prepares (they are reused beyond it)
ARMS = ("direct", "chatkeep-sqlite", "chatkeep-pg", "litellm", "chatkeep-openai", "chatkeep-responses")
LATE_TOLERANCE = 0.001  # share of frames that may come later than twice the cadence
OPEN_RATE = 256  # streams opened per second on the held-at-once ladder


@dataclass(frozen=True)
class Plan:
    levels: tuple[int, ...]
    rounds: int
    buffered_seconds: float
    streams_per_worker: dict[int, int]
    capacity_levels: tuple[int, ...]
    deltas: int = 64
    interval: float = 0.02
    held_interval: float = 0.02  # the held-at-once ladder's cadence
    held_seconds: float = 8.0  # how long its streams last: longer than opening 1,000 at 256/s

    def streams(self, level: int) -> int:
        return self.streams_per_worker.get(level, 1)

    @property
    def long_deltas(self) -> int:
        return max(round(self.held_seconds / self.held_interval), 1)


QUICK = Plan(
    levels=(1, 64, 256), rounds=1, buffered_seconds=1.5, streams_per_worker={1: 3}, capacity_levels=()
)
FULL = Plan(
    levels=(1, 16, 64, 256),
    rounds=2,
    buffered_seconds=3.0,
    streams_per_worker={1: 4, 16: 2, 64: 2, 256: 1},
    capacity_levels=(32, 64, 128, 256, 512, 1000),
)


@dataclass
class Arm:
    """One way of reaching the upstream, with the request it sends in each mode."""

    name: str
    server: Server
    kind: str  # direct | chatkeep | litellm | chatkeep-openai | chatkeep-responses

    def spec(self, *, stream: bool, long: bool = False) -> dict[str, Any]:
        """The request of one mode; `long`: a stream of the mock's `--long-deltas` (held-at-once ladder)."""
        spec = self._spec(stream=stream)
        if long:
            body = json.loads(spec["body"])
            key = "modelId" if "modelId" in body else "model"
            body[key] = body[key].replace("stream", "long") if "bench-" in body[key] else "stream-long"
            spec["body"] = json.dumps(body)
        return spec

    def _spec(self, *, stream: bool) -> dict[str, Any]:
        messages = [{"role": "user", "content": PROMPT}]
        headers = {"authorization": f"Bearer {self.server.token}"} if self.server.token else {}
        if self.kind == "chatkeep":
            body = {
                "modelId": "bench-stream" if stream else "bench-buffered",
                "sessionId": "__SESSION__",
                "messages": messages,
                "maxTokens": 128,
            }
            path = f"/api/v3/organizations/{ORG}/ai/chat" + ("/stream" if stream else "")
            protocol = "quant"
        elif self.kind == "chatkeep-responses":
            body = {"model": "bench-stream" if stream else "bench-buffered", "input": PROMPT}
            body["max_output_tokens"] = 128
            if stream:
                body["stream"] = True
            path = "/v1/responses"
            protocol = "responses"
        else:
            prefix = "bench-" if self.kind in ("litellm", "chatkeep-openai") else ""
            body = {"model": prefix + ("stream" if stream else "buffered"), "messages": messages}
            body["max_tokens"] = 128
            if stream:
                body["stream"] = True
            path = "/v1/chat/completions"
            protocol = "openai"
        return {
            "host": "127.0.0.1",
            "port": self.server.port,
            "path": path,
            "headers": headers,
            "body": json.dumps(body),
            "stream": stream,
            "protocol": protocol,
            "turns_per_session": TURNS_PER_SESSION,
        }


@dataclass
class Cell:
    """Samples of one arm x mode x concurrency, merged over rounds."""

    latency: list[float] = field(default_factory=list)
    ttft: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    max_gap: list[float] = field(default_factory=list)
    spans: list[tuple[float, float, float]] = field(default_factory=list)  # (sent, first text, end), seconds
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    cpu_seconds: float = 0.0
    rss_before: int = 0
    rss_peak: int = 0

    def add(self, result: dict[str, Any], cpu: float) -> None:
        for key in ("latency", "ttft", "gaps", "max_gap"):
            getattr(self, key).extend(v / 1e6 for v in result[key])
        self.spans.extend((a / 1e6, b / 1e6, c / 1e6) for a, b, c in result.get("spans", []))
        self.errors.extend(result["errors"])
        self.wall += result["wall"]
        self.cpu_seconds += cpu

    @property
    def rps(self) -> float | None:
        return len(self.latency) / self.wall if self.wall else None

    def ms(self, name: str, q: float) -> float | None:
        value = percentile(getattr(self, name), q)
        return None if value is None else value * 1000


# ---- running one step --------------------------------------------------------------------------------


def create_sessions(server: Server, count: int) -> list[str]:
    """`count` fresh Quant sessions through the API (outside any measurement)."""

    async def main() -> list[str]:
        headers = {"authorization": f"Bearer {server.token}"}
        url = f"{server.url}/api/v3/organizations/{ORG}/ai/sessions"
        gate = asyncio.Semaphore(16)
        async with httpx.AsyncClient(headers=headers, timeout=30) as http:

            async def one(i: int) -> str:
                async with gate:
                    answer = await http.post(url, json={"userId": f"bench-user-{i % 64}"})
                    answer.raise_for_status()
                    return str(answer.json()["sessionId"])

            return list(await asyncio.gather(*(one(i) for i in range(count))))

    return asyncio.run(main())


@contextmanager
def memory_watch(server: Server, cell: Cell) -> Iterator[None]:
    """Sample the server's resident memory every 50 ms while the block runs; keep baseline and peak."""
    stop = threading.Event()
    before = server.rss()
    peak = [before]

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], server.rss())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        cell.rss_before, cell.rss_peak = before, max(cell.rss_peak, peak[0])


def cpu_seconds(server: Server) -> float:
    """CPU used so far by the server and every process under it (workers, chatkeep's scanning processes)."""
    try:
        parent = psutil.Process(server.process.pid)
        processes = [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue  # ended meanwhile
        total += times.user + times.system
    return total


def run_step(
    arm: Arm,
    *,
    stream: bool,
    level: int,
    per_worker: int,
    duration: float,
    cell: Cell,
    long: bool = False,
    stagger: float | None = None,
    ready: Callable[[], None] | None = None,
) -> None:
    """One load step; `stagger`: seconds over which the clients start (default: 20 ms for streams);
    `ready`: called once the step's sessions exist, just before the load starts (a profiler starts there)."""
    spec = arm.spec(stream=stream, long=long)
    if arm.kind == "chatkeep":
        per_session = math.ceil(per_worker / TURNS_PER_SESSION)
        ids = create_sessions(arm.server, level * per_session)
        spec["sessions"] = [ids[i * per_session : (i + 1) * per_session] for i in range(level)]
    timeout = 30.0
    spec.update(
        concurrency=level,
        requests_per_worker=per_worker,
        duration=duration,
        timeout=timeout,
        stagger=stagger if stagger is not None else (0.02 if stream else 0.0),
    )
    if ready is not None:
        ready()
    cpu = cpu_seconds(arm.server)
    with memory_watch(arm.server, cell) if stream else _nothing():
        result = servers.run_load(spec, timeout=duration + timeout + 60)
    cell.add(result, cpu_seconds(arm.server) - cpu)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def buffered_per_worker(plan: Plan, level: int, arm: Arm) -> int:
    if arm.kind == "chatkeep":
        return max(TURNS_PER_SESSION, math.ceil(CHATKEEP_RPS_GUESS * plan.buffered_seconds / level))
    return 1_000_000  # the deadline ends the step


# ---- the run -----------------------------------------------------------------------------------------


def start_arms(
    stack: ExitStack,
    workdir: Path,
    plan: Plan,
    names: list[str],
    baseline: Path | None = None,
    workers: int = 1,
) -> list[Arm]:
    upstream = stack.enter_context(
        servers.running(
            servers.start_upstream(
                workdir,
                deltas=plan.deltas,
                interval=plan.interval,
                long_deltas=plan.long_deltas,
                long_interval=plan.held_interval,
            )
        )
    )
    models = servers.write_models_file(workdir, upstream)
    arms = []
    for name in names:
        print(f"starting {name} …", flush=True)
        if name == "direct":
            arms.append(Arm(name, upstream, "direct"))
        elif name == "chatkeep-sqlite":
            url = f"sqlite+aiosqlite:///{workdir / 'chatkeep.db'}"
            server = servers.start_chatkeep(name, workdir, url, models, workers=workers)
            arms.append(Arm(name, stack.enter_context(servers.running(server)), "chatkeep"))
        elif name == "chatkeep-baseline" and baseline is not None:
            url = f"sqlite+aiosqlite:///{workdir / 'baseline.db'}"
            server = servers.start_chatkeep(name, workdir, url, models, source=baseline, workers=workers)
            arms.append(Arm(name, stack.enter_context(servers.running(server)), "chatkeep"))
        elif name == "chatkeep-traced":
            # Tracing on, every span exported over OTLP/HTTP (to the mock upstream, which drops them).
            url = f"sqlite+aiosqlite:///{workdir / 'traced.db'}"
            server = servers.start_chatkeep(
                name, workdir, url, models, extra_env={"CHATKEEP_OTLP_ENDPOINT": upstream.url}
            )
            arms.append(Arm(name, stack.enter_context(servers.running(server)), "chatkeep"))
        elif name == "chatkeep-pg":
            url = stack.enter_context(servers.postgres_database())
            server = servers.start_chatkeep(name, workdir, url, models, workers=workers)
            arms.append(Arm(name, stack.enter_context(servers.running(server)), "chatkeep"))
        elif name in ("chatkeep-openai", "chatkeep-responses"):
            url = f"sqlite+aiosqlite:///{workdir / (name + '.db')}"
            server = servers.start_chatkeep(name, workdir, url, models, workers=workers)
            arms.append(Arm(name, stack.enter_context(servers.running(server)), name))
        elif name == "litellm":
            server = servers.start_litellm(workdir, upstream, workers=workers)
            arms.append(Arm(name, stack.enter_context(servers.running(server)), "litellm"))
        else:
            raise SystemExit(
                f"unknown arm {name!r}; known: {', '.join(ARMS)} (and chatkeep-baseline, chatkeep-traced)"
            )
    return arms


def warm_up(arms: list[Arm]) -> None:
    """A short step per arm and mode: imports, pools, caches and the JIT-less Python's first calls."""
    for arm in arms:
        for stream in (False, True):
            run_step(arm, stream=stream, level=8, per_worker=8 if not stream else 1, duration=3, cell=Cell())


def measure(arms: list[Arm], plan: Plan) -> dict[tuple[str, str, int], Cell]:
    cells: dict[tuple[str, str, int], Cell] = {}
    for round_ in range(plan.rounds):
        for level in plan.levels:
            # Rotate the order each round and level so no arm always runs first (or right after another).
            shift = (round_ + plan.levels.index(level)) % len(arms)
            order = arms[shift:] + arms[:shift]
            for arm in order:
                cell = cells.setdefault((arm.name, "buffered", level), Cell())
                run_step(
                    arm,
                    stream=False,
                    level=level,
                    per_worker=buffered_per_worker(plan, level, arm),
                    duration=plan.buffered_seconds,
                    cell=cell,
                )
            for arm in order:
                cell = cells.setdefault((arm.name, "stream", level), Cell())
                streams = plan.streams(level)
                budget = streams * (plan.deltas * plan.interval + 2) + 5
                run_step(arm, stream=True, level=level, per_worker=streams, duration=budget, cell=cell)
            print(f"  round {round_ + 1}/{plan.rounds}, concurrency {level}: done", flush=True)
    return cells


def holds(late: int, frames: int, complete: bool) -> tuple[bool, bool]:
    """(no frame late at all, at most LATE_TOLERANCE of frames late); late = gap over twice the cadence.

    Both are reported: on a shared machine the strict one also fails for the direct arm now and then.
    """
    return complete and late == 0, complete and late <= LATE_TOLERANCE * max(frames, 1)


def at_once(spans: list[tuple[float, float, float]]) -> bool:
    """Whether every stream was streaming at one same moment: the last first text frame came before the
    first stream ended. (Streams that merely overlap in a queue, some finished before others began, are
    not held at once.)"""
    return bool(spans) and max(first for _, first, _ in spans) < min(end for _, _, end in spans)


def capacity(arms: list[Arm], plan: Plan) -> dict[str, dict[str, Any]]:
    """The most streams each arm holds at once on cadence: a ladder, one long stream per client, opened at
    OPEN_RATE a second; a level holds when every stream completes, all were streaming at the same moment
    (see `at_once`) and at most LATE_TOLERANCE of the frames came later than twice the cadence."""
    found: dict[str, dict[str, Any]] = {a.name: {"strict": None, "tolerant": None, "tried": []} for a in arms}
    alive = list(arms)
    for level in plan.capacity_levels:
        for arm in list(alive):
            cell = Cell()
            opening = level / OPEN_RATE
            budget = opening + plan.held_seconds + 15
            with memory_watch(arm.server, cell):
                run_step(
                    arm, stream=True, level=level, per_worker=1, duration=budget, cell=cell, long=True,
                    stagger=opening,
                )  # fmt: skip
            late = sum(1 for g in cell.gaps if g > 2 * plan.held_interval)
            complete = not cell.errors and len(cell.latency) == level and at_once(cell.spans)
            strict, tolerant = holds(late, len(cell.gaps), complete)
            found[arm.name]["tried"].append(
                {
                    "level": level,
                    "at_once": at_once(cell.spans),
                    "late_frames": late,
                    "frames": len(cell.gaps),
                    "ttft_p50_ms": cell.ms("ttft", 50),
                    "worst_gap_ms": max(cell.max_gap, default=0.0) * 1000,
                    "errors": len(cell.errors),
                    "error_samples": sorted(set(cell.errors))[:3],
                    "kib_per_open_stream": (cell.rss_peak - cell.rss_before) / 1024 / level,
                }
            )
            if strict and found[arm.name]["tolerant"] == found[arm.name]["strict"]:
                found[arm.name]["strict"] = level
            if tolerant:
                found[arm.name]["tolerant"] = level
            else:
                alive.remove(arm)
        print(f"  held at once, {level} streams: done", flush=True)
    return found


# ---- report ------------------------------------------------------------------------------------------


def summarise(
    arms: list[Arm], plan: Plan, cells: dict[tuple[str, str, int], Cell], held: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for level in plan.levels:
        base_b = cells.get(("direct", "buffered", level))
        base_s = cells.get(("direct", "stream", level))
        for arm in arms:
            b, s = cells[(arm.name, "buffered", level)], cells[(arm.name, "stream", level)]

            def added(cell: Cell, base: Cell | None, name: str, q: float) -> float | None:
                mine, theirs = cell.ms(name, q), base.ms(name, q) if base else None
                return None if mine is None or theirs is None else mine - theirs

            rows.append(
                {
                    "arm": arm.name,
                    "concurrency": level,
                    "buffered": {
                        "requests": len(b.latency),
                        "p50_ms": b.ms("latency", 50),
                        "p99_ms": b.ms("latency", 99),
                        "added_p50_ms": added(b, base_b, "latency", 50),
                        "added_p99_ms": added(b, base_b, "latency", 99),
                        "rps": b.rps,
                        "cpu_ms_per_request": 1000 * b.cpu_seconds / len(b.latency) if b.latency else None,
                        "errors": len(b.errors),
                    },
                    "stream": {
                        "streams": len(s.ttft),
                        "ttft_p50_ms": s.ms("ttft", 50),
                        "ttft_p99_ms": s.ms("ttft", 99),
                        "added_ttft_p50_ms": added(s, base_s, "ttft", 50),
                        "added_ttft_p99_ms": added(s, base_s, "ttft", 99),
                        "gap_p50_ms": s.ms("gaps", 50),
                        "gap_p99_ms": s.ms("gaps", 99),
                        "added_gap_p50_ms": added(s, base_s, "gaps", 50),
                        "added_gap_p99_ms": added(s, base_s, "gaps", 99),
                        "worst_gap_ms": max(s.max_gap, default=0.0) * 1000,
                        "late_frames": sum(1 for g in s.gaps if g > 2 * plan.interval),
                        "frames": len(s.gaps) + len(s.ttft),
                        "cpu_ms_per_stream": 1000 * s.cpu_seconds / len(s.ttft) if s.ttft else None,
                        "kib_per_open_stream": (s.rss_peak - s.rss_before) / 1024 / level
                        if s.rss_peak
                        else None,
                        "errors": len(s.errors),
                        "error_samples": sorted(set(s.errors))[:3],
                    },
                }
            )
    summary = []
    for arm in arms:
        mine = [r for r in rows if r["arm"] == arm.name]
        top = max(plan.levels)
        at_top = next(r for r in mine if r["concurrency"] == top)
        summary.append(
            {
                "arm": arm.name,
                "saturation_rps": max((r["buffered"]["rps"] or 0) for r in mine),
                "streams_held": _held(arm.name, mine, held, plan),
                "kib_per_open_stream": at_top["stream"]["kib_per_open_stream"],
                "cpu_ms_per_request": at_top["buffered"]["cpu_ms_per_request"],
                "cpu_ms_per_stream": at_top["stream"]["cpu_ms_per_stream"],
                "errors": sum(r["buffered"]["errors"] + r["stream"]["errors"] for r in mine),
            }
        )
    return {"rows": rows, "summary": summary, "capacity": held}


def _held(name: str, rows: list[dict[str, Any]], ladder: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """Streams held on cadence: from the capacity ladder when it ran, else from the measured levels."""
    if plan.capacity_levels:
        return {"strict": ladder[name]["strict"], "tolerant": ladder[name]["tolerant"]}
    strict = tolerant = None
    strict_unbroken = tolerant_unbroken = True
    for r in sorted(rows, key=lambda r: r["concurrency"]):
        s = r["stream"]
        ok_strict, ok_tolerant = holds(s["late_frames"], s["frames"], s["errors"] == 0)
        strict_unbroken, tolerant_unbroken = strict_unbroken and ok_strict, tolerant_unbroken and ok_tolerant
        if strict_unbroken:
            strict = r["concurrency"]
        if tolerant_unbroken:
            tolerant = r["concurrency"]
    return {"strict": strict, "tolerant": tolerant}


def render(result: dict[str, Any], plan: Plan) -> str:
    rows, summary = result["rows"], result["summary"]
    ms = "ms"
    buffered = table(
        ["arm", "conc", f"p50 {ms}", f"p99 {ms}", "added p50", "added p99", "req/s", "CPU ms/req", "errors"],
        [
            [
                r["arm"],
                str(r["concurrency"]),
                fmt(r["buffered"]["p50_ms"], 2),
                fmt(r["buffered"]["p99_ms"], 2),
                signed(r["buffered"]["added_p50_ms"], 2),
                signed(r["buffered"]["added_p99_ms"], 2),
                fmt(r["buffered"]["rps"], 0),
                fmt(r["buffered"]["cpu_ms_per_request"], 2),
                str(r["buffered"]["errors"]),
            ]
            for r in rows
        ],
    )
    streamed = table(
        ["arm", "conc", "TTFT p50", "added TTFT p50", "added TTFT p99", "gap p50", "added gap p50",
         "added gap p99", "worst gap", "late frames", "errors"],
        [
            [
                r["arm"],
                str(r["concurrency"]),
                fmt(r["stream"]["ttft_p50_ms"], 2),
                signed(r["stream"]["added_ttft_p50_ms"], 2),
                signed(r["stream"]["added_ttft_p99_ms"], 2),
                fmt(r["stream"]["gap_p50_ms"], 2),
                signed(r["stream"]["added_gap_p50_ms"], 2),
                signed(r["stream"]["added_gap_p99_ms"], 2),
                fmt(r["stream"]["worst_gap_ms"], 1),
                f"{r['stream']['late_frames']}/{r['stream']['frames']}",
                str(r["stream"]["errors"]),
            ]
            for r in rows
        ],
    )  # fmt: skip
    litellm = next((s for s in summary if s["arm"] == "litellm"), None)
    overview = table(
        ["arm", "req/s at saturation", "x LiteLLM", "streams held (strict / 0.1% late)",
         "KiB per open stream",
         "CPU ms per call", "CPU ms per stream", "errors"],
        [
            [
                s["arm"],
                fmt(s["saturation_rps"], 0),
                fmt(s["saturation_rps"] / litellm["saturation_rps"], 2)
                if litellm and litellm["saturation_rps"]
                else "-",
                f"{s['streams_held']['strict'] or '-'} / {s['streams_held']['tolerant'] or '-'}",
                fmt(s["kib_per_open_stream"], 0),
                fmt(s["cpu_ms_per_request"], 2),
                fmt(s["cpu_ms_per_stream"], 1),
                str(s["errors"]),
            ]
            for s in summary
        ],
    )  # fmt: skip
    cadence = f"{plan.deltas} deltas x {plan.interval * 1000:g} ms"
    if plan.capacity_levels:
        overview += (
            f"\nStreams held at once: {plan.long_deltas} deltas x {plan.held_interval * 1000:g} ms, "
            f"opened at {OPEN_RATE}/s, levels {', '.join(map(str, plan.capacity_levels))}\n"
        )
    return (
        "Buffered calls (times in ms; added = this arm minus direct at the same concurrency)\n\n"
        f"{buffered}\n\n"
        f"Streams ({cadence}; gap = time between text frames; late = gap over twice the cadence)\n\n"
        f"{streamed}\n\nOverview (CPU and memory of the gateway process at the highest concurrency)\n\n"
        f"{overview}\n"
    )


def keep_logs(workdir: Path, limit: int = 200_000) -> None:
    """The end of each server's log, next to the results: errors in the table can then be explained."""
    target = RESULTS / "gateway-logs"
    target.mkdir(parents=True, exist_ok=True)
    for log in workdir.glob("*.log"):
        data = log.read_bytes()
        (target / log.name).write_bytes(data[-limit:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer levels and requests (about 2 minutes)")
    parser.add_argument("--arms", default=",".join(ARMS), help="comma-separated subset of " + ", ".join(ARMS))
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a chatkeep `src` directory to measure as one more arm, chatkeep-baseline (SQLite), e.g. "
        "`mkdir -p /tmp/base && git archive HEAD src | tar -x -C /tmp/base` then --baseline /tmp/base/src",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes per chatkeep and LiteLLM arm (serve --workers; litellm --num_workers)",
    )
    parser.add_argument(
        "--held",
        help="comma-separated levels of the streams-held-at-once ladder (replaces the plan's; 0: skip it)",
    )
    parser.add_argument(
        "--held-interval",
        type=float,
        help="seconds between the held-at-once ladder's frames (default 0.02, the streams' cadence); its "
        "streams last 8 s whatever the cadence",
    )
    parser.add_argument("--levels", help="comma-separated concurrency levels (replaces the plan's)")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    if args.levels:
        plan = dataclasses.replace(plan, levels=tuple(int(n) for n in args.levels.split(",")))
    if args.held is not None:
        levels = tuple(int(n) for n in args.held.split(",") if int(n) > 0)
        plan = dataclasses.replace(plan, capacity_levels=levels)
    if args.held_interval is not None:
        plan = dataclasses.replace(plan, held_interval=args.held_interval)
    names = [n.strip() for n in args.arms.split(",") if n.strip()]
    if "direct" not in names:
        names.insert(0, "direct")  # every figure is relative to it
    if args.baseline is not None and "chatkeep-baseline" not in names:
        names.insert(1, "chatkeep-baseline")
    started = time.monotonic()
    load_before = machine()["load_average"]
    with tempfile.TemporaryDirectory(prefix="chatkeep-bench-") as tmp:
        with ExitStack() as stack:
            arms = start_arms(stack, Path(tmp), plan, names, args.baseline, args.workers)
            print("warming up …", flush=True)
            warm_up(arms)
            print("measuring …", flush=True)
            cells = measure(arms, plan)
            held = capacity(arms, plan) if plan.capacity_levels else {}
            result = summarise(arms, plan, cells, held)
        keep_logs(Path(tmp))
    text = render(result, plan)
    info = machine()
    info["load_average_before"] = load_before
    elapsed = time.monotonic() - started
    path = write_result(
        "gateway",
        {
            "plan": {
                **plan.__dict__,
                "long_deltas": plan.long_deltas,
                "mode": "quick" if args.quick else "full",
                "workers": args.workers,
            },
            "machine": info,
            "seconds": round(elapsed),
            **result,
        },
    )
    print()
    print(text)
    print(
        f"load average before {load_before}, after {info['load_average']}; {elapsed:.0f} s; "
        f"written to {path.relative_to(servers.ROOT)}"
    )


if __name__ == "__main__":
    main()
