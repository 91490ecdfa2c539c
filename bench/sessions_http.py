"""Sessions API over HTTP: requests/s, latency and server CPU of Quant session create, get and list.

    .venv/bin/python -m bench.sessions_http [--arms sqlite,pg] [--baseline SRC] [--levels 16,64]
        [--seconds 2] [--rounds 2] [--profile DIR]

One chatkeep process per arm (`chatkeep serve`, as bench.gateway starts it: CLI-made organisation and
service token, access log off), on SQLite, on PostgreSQL with `--arms sqlite,pg` (a fresh database,
dropped at the end), and with `--baseline SRC` on another source tree (SQLite), e.g. main's:
`mkdir -p /tmp/base && git archive main src | tar -x -C /tmp/base` then `--baseline /tmp/base/src`.
Each arm first gets sessions over HTTP (64 users x 8, each with a system, a user and an assistant
message). The load generator (bench/loadgen.py, its own process, keep-alive connections sending back to
back) then sends what the quantcdn client sends:

- create: POST .../ai/sessions {"userId", "sessionGroup", "metadata", "expirationMinutes"}, users rotating;
- get: GET .../ai/sessions/{sessionId}, rotating over the prepared sessions (3 messages each);
- list: GET .../ai/sessions?userId=…&limit=20, rotating over the users (8 sessions each).

Steps are interleaved (round x concurrency x operation, arms in a rotating order), so every arm sees
the same machine noise; ratios against the baseline arm are the headline. CPU is chatkeep's process
tree, per answered request (PostgreSQL's own processes are not in it). `--profile DIR` then records each
arm under py-spy (`--gil`, raw collapsed stacks; py-spy stops the server for each sample, so its stacks
are whole and its req/s lower) for one longer step per operation at the highest concurrency, outside the
measured steps, and prints where the samples went (bench/profile_shares.py).

Prints a Markdown table and writes bench/results/sessions_http-<time>.json. Bounded: every step has a
deadline; the default run (one arm and a baseline) takes about a minute and a half.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import profile_shares, servers
from bench.figures import fmt, machine, percentile, table, write_result
from bench.gateway import cpu_seconds
from bench.servers import ORG, Server

ARMS = ("sqlite", "pg")
BASELINE = "baseline"
OPS = ("create", "get", "list")
USERS = 64
SESSIONS_PER_USER = 8
PREFIX = f"/api/v3/organizations/{ORG}/ai"
# What quantcdn-client 4.8 (the generated OpenAPI client) puts on every call besides the token.
CLIENT_HEADERS = {"accept": "application/json", "user-agent": "OpenAPI-Generator/1.0.0/python"}
HISTORY = [
    {"role": "system", "content": "You are a helpful assistant for a Drupal site."},
    {"role": "user", "content": "How do I reset my password?"},
    {"role": "assistant", "content": "Use the 'Forgot password' link on the sign-in page."},
]
TIMEOUT = 30.0


@dataclass
class Arm:
    name: str
    server: Server
    ids: list[str] = field(default_factory=list)  # prepared sessions
    users: list[str] = field(default_factory=list)  # their owners


@dataclass
class Cell:
    """Samples of one arm x operation x concurrency, merged over rounds."""

    latency: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0

    def add(self, result: dict[str, Any], cpu: float) -> None:
        self.latency.extend(v / 1e6 for v in result["latency"])
        self.errors.extend(result["errors"])
        self.wall += result["wall"]
        self.cpu += cpu

    def figures(self) -> dict[str, Any]:
        n = len(self.latency)
        p50, p99 = percentile(self.latency, 50), percentile(self.latency, 99)
        return {
            "requests": n,
            "rps": n / self.wall if self.wall else None,
            "p50_ms": None if p50 is None else p50 * 1000,
            "p99_ms": None if p99 is None else p99 * 1000,
            "cpu_ms_per_request": 1000 * self.cpu / n if n else None,
            "errors": len(self.errors),
            "error_samples": sorted(set(self.errors))[:3],
        }


# ---- arms and their data ---------------------------------------------------------------------------


def idle_models_file(workdir: Path) -> Path:
    """A models file whose one model is never called (no session call reaches a model); its provider
    points at a closed loopback port."""
    path = workdir / "models.yaml"
    path.write_text(
        f"""providers:
  idle: {{type: openai, base_url: "http://127.0.0.1:{servers.free_port()}/v1", max_retries: 0}}
embedded: {{enabled: false}}
default_model: idle
models:
  - {{id: idle, provider: idle, upstream_model: idle, context_window: 8192}}
"""
    )
    return path


def start_arms(stack: ExitStack, workdir: Path, names: list[str], baseline: Path | None) -> list[Arm]:
    models = idle_models_file(workdir)
    arms = []
    for name in names:
        print(f"starting {name} …", flush=True)
        source = None
        if name == "pg":
            url = stack.enter_context(servers.postgres_database())
        elif name in ("sqlite", BASELINE):
            url = f"sqlite+aiosqlite:///{workdir / (name + '.db')}"
            source = baseline if name == BASELINE else None
        else:
            raise SystemExit(f"unknown arm {name!r}; known: {', '.join(ARMS)}")
        server = servers.start_chatkeep(name, workdir, url, models, source=source)
        arms.append(Arm(name, stack.enter_context(servers.running(server))))
    return arms


def prepare(arm: Arm) -> None:
    """USERS x SESSIONS_PER_USER sessions through the API, outside any measurement."""

    async def main() -> list[str]:
        headers = {"authorization": f"Bearer {arm.server.token}"}
        gate = asyncio.Semaphore(16)
        async with httpx.AsyncClient(base_url=arm.server.url, headers=headers, timeout=TIMEOUT) as http:

            async def one(i: int) -> str:
                body = {"userId": f"bench-user-{i % USERS}", "initialMessages": HISTORY}
                async with gate:
                    answer = await http.post(f"{PREFIX}/sessions", json=body)
                answer.raise_for_status()
                return str(answer.json()["sessionId"])

            return list(await asyncio.gather(*(one(i) for i in range(USERS * SESSIONS_PER_USER))))

    arm.ids = asyncio.run(main())
    arm.users = [f"bench-user-{i}" for i in range(USERS)]


# ---- one step --------------------------------------------------------------------------------------


def spec(arm: Arm, op: str, level: int) -> dict[str, Any]:
    """The load generator's spec: the request of `op`, each worker rotating over its own values."""
    headers = {**CLIENT_HEADERS, "authorization": f"Bearer {arm.server.token}"}
    body: str | None = None
    if op == "create":
        path = f"{PREFIX}/sessions"
        body = json.dumps(
            {
                "userId": "__SESSION__",
                "sessionGroup": "bench",
                "metadata": {"source": "bench"},
                "expirationMinutes": 60,
            }
        )
        values = [f"bench-new-{i}" for i in range(USERS)]
    elif op == "get":
        path, values = f"{PREFIX}/sessions/__SESSION__", arm.ids
    else:
        path, values = f"{PREFIX}/sessions?userId=__SESSION__&limit=20", arm.users
    # Worker i starts at its own offset, so the workers do not ask for the same rows in step.
    sessions = [values[i % len(values) :] + values[: i % len(values)] for i in range(level)]
    return {
        "host": "127.0.0.1",
        "port": arm.server.port,
        "method": "POST" if op == "create" else "GET",
        "path": path,
        "headers": headers,
        "body": body,
        "sessions": sessions,
        "rotate": True,
        "concurrency": level,
        "requests_per_worker": 1_000_000,  # the deadline ends the step
        "timeout": TIMEOUT,
    }


def run_step(arm: Arm, op: str, level: int, seconds: float, cell: Cell) -> None:
    load = {**spec(arm, op, level), "duration": seconds}
    cpu = cpu_seconds(arm.server)
    result = servers.run_load(load, timeout=seconds + TIMEOUT + 60)
    cell.add(result, cpu_seconds(arm.server) - cpu)


def measure(
    arms: list[Arm], levels: list[int], rounds: int, seconds: float
) -> dict[tuple[str, str, int], Cell]:
    cells: dict[tuple[str, str, int], Cell] = {}
    step = 0
    for round_ in range(rounds):
        for level in levels:
            for op in OPS:
                shift = step % len(arms)  # no arm always runs first, or always right after another
                step += 1
                for arm in arms[shift:] + arms[:shift]:
                    run_step(arm, op, level, seconds, cells.setdefault((arm.name, op, level), Cell()))
            print(f"  round {round_ + 1}/{rounds}, concurrency {level}: done", flush=True)
    return cells


def profile(arms: list[Arm], level: int, seconds: float, out: Path) -> dict[str, dict[str, Any]]:
    """One step per arm and operation under py-spy; returns the sample shares of each recording."""
    shares: dict[str, dict[str, Any]] = {}
    for arm in arms:
        for op in OPS:
            path = out / f"sessions_http-{arm.name}-{op}.txt"
            argv = [str(servers.VENV_BIN / "py-spy"), "record", "--gil", "--rate", "200", "--format", "raw"]
            argv += ["-p", str(arm.server.process.pid), "-o", str(path), "-d", str(int(seconds) + 5)]
            recorder = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)  # attached before the load starts
            cell = Cell()
            run_step(arm, op, level, seconds, cell)
            recorder.send_signal(2)
            recorder.wait(timeout=30)
            shares[f"{arm.name} {op}"] = {
                "file": str(path),
                "rps": cell.figures()["rps"],
                **profile_shares.shares(profile_shares.read(path)),
            }
            print(f"  profiled {arm.name} {op}: {path}", flush=True)
    return shares


# ---- report ----------------------------------------------------------------------------------------


def summarise(
    arms: list[Arm], levels: list[int], cells: dict[tuple[str, str, int], Cell]
) -> list[dict[str, Any]]:
    rows = []
    for op in OPS:
        for level in levels:
            base = cells[(BASELINE, op, level)].figures() if (BASELINE, op, level) in cells else None
            for arm in arms:
                row = {"arm": arm.name, "op": op, "concurrency": level}
                row.update(cells[(arm.name, op, level)].figures())
                if base is not None and arm.name == "sqlite":  # the baseline runs on SQLite too
                    row["rps_ratio"] = _ratio(row["rps"], base["rps"])
                    row["cpu_ratio"] = _ratio(row["cpu_ms_per_request"], base["cpu_ms_per_request"])
                rows.append(row)
    return rows


def _ratio(mine: float | None, theirs: float | None) -> float | None:
    return mine / theirs if mine is not None and theirs else None


COLUMNS = (
    "op",
    "conc",
    "arm",
    "req/s",
    "p50 ms",
    "p99 ms",
    "CPU ms/req",
    "x base req/s",
    "x base CPU",
    "errors",
)


def render(rows: list[dict[str, Any]]) -> str:
    return table(
        COLUMNS,
        [
            [
                r["op"],
                str(r["concurrency"]),
                r["arm"],
                fmt(r["rps"], 0),
                fmt(r["p50_ms"], 2),
                fmt(r["p99_ms"], 2),
                fmt(r["cpu_ms_per_request"], 3),
                fmt(r.get("rps_ratio"), 2),
                fmt(r.get("cpu_ratio"), 2),
                str(r["errors"]),
            ]
            for r in rows
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arms", default="sqlite", help="comma-separated subset of " + ", ".join(ARMS))
    parser.add_argument(
        "--baseline", type=Path, help="a chatkeep `src` directory measured as one more arm (SQLite)"
    )
    parser.add_argument("--levels", default="16,64", help="comma-separated concurrency levels")
    parser.add_argument("--seconds", type=float, default=2.0, help="per step")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", type=Path, help="also record each arm with py-spy, into this folder")
    parser.add_argument("--profile-seconds", type=float, default=8.0)
    args = parser.parse_args()
    names = [n.strip() for n in args.arms.split(",") if n.strip()]
    if args.baseline is not None:
        names.append(BASELINE)
    levels = [int(n) for n in args.levels.split(",")]
    started = time.monotonic()
    load_before = machine()["load_average"]
    shares: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="chatkeep-sessions-") as tmp, ExitStack() as stack:
        arms = start_arms(stack, Path(tmp), names, args.baseline)
        print("preparing sessions …", flush=True)
        for arm in arms:
            prepare(arm)
        print("warming up …", flush=True)
        for arm in arms:
            for op in OPS:
                run_step(arm, op, 8, 1.0, Cell())
        print("measuring …", flush=True)
        cells = measure(arms, levels, args.rounds, args.seconds)
        if args.profile is not None:
            args.profile.mkdir(parents=True, exist_ok=True)
            shares = profile(arms, max(levels), args.profile_seconds, args.profile)
    rows = summarise(arms, levels, cells)
    info = machine()
    info["load_average_before"] = load_before
    elapsed = time.monotonic() - started
    plan = {"arms": names, "levels": levels, "seconds": args.seconds, "rounds": args.rounds}
    plan["baseline"] = str(args.baseline) if args.baseline else None
    data = {"plan": plan, "machine": info, "seconds": round(elapsed), "rows": rows, "profiles": shares}
    path = write_result("sessions_http", data)
    print()
    print(render(rows))
    for name, found in shares.items():
        print(f"\n{name} ({found['samples']} samples, {fmt(found['rps'], 0)} req/s under py-spy)\n")
        print(profile_shares.render(found))
    print(
        f"\nload average before {load_before}, after {info['load_average']}; {elapsed:.0f} s; "
        f"written to {path.relative_to(servers.ROOT)}"
    )


if __name__ == "__main__":
    main()
