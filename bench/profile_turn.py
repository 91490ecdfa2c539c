"""Where a turn's CPU goes: py-spy records chatkeep while the gateway's load generator drives it.

    .venv/bin/python -m bench.profile_turn [--mode buffered|stream] [--clients 64] [--seconds 15]
        [--backend sqlite|pg] [--out bench/results/profile.svg] [--format flamegraph|speedscope|raw]

One chatkeep process (the same setup as `bench.gateway`: Quant `chat` with a session, guards on) against
the mock upstream; py-spy samples it (`--gil`: only what holds the GIL, the time that limits one
process) for the whole load step. Prints requests/s and the server's CPU per request next to the profile,
so a change to the hot path can be read off both.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench import servers
from bench.figures import RESULTS
from bench.gateway import Arm, Cell, run_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("buffered", "stream"), default="buffered")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--backend", choices=("sqlite", "pg"), default="sqlite")
    parser.add_argument("--format", choices=("flamegraph", "speedscope", "raw"), default="raw")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-profile", action="store_true", help="only the figures, no py-spy")
    args = parser.parse_args()
    stream = args.mode == "stream"
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = {"flamegraph": "svg", "speedscope": "json", "raw": "txt"}[args.format]
    out = (
        args.out or RESULTS / f"profile-{args.mode}-{args.backend}-{time.strftime('%Y%m%d-%H%M%S')}.{suffix}"
    )

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="chatkeep-profile-") as tmp:
        workdir = Path(tmp)
        upstream = stack.enter_context(
            servers.running(servers.start_upstream(workdir, deltas=64, interval=0.02))
        )
        models = servers.write_models_file(workdir, upstream)
        if args.backend == "pg":
            url = stack.enter_context(servers.postgres_database())
        else:
            url = f"sqlite+aiosqlite:///{workdir / 'chatkeep.db'}"
        server = stack.enter_context(
            servers.running(servers.start_chatkeep("chatkeep", workdir, url, models))
        )
        arm = Arm("chatkeep", server, "chatkeep")
        run_step(arm, stream=stream, level=8, per_worker=8, duration=3, cell=Cell())  # warm up
        recorders: list[subprocess.Popen[bytes]] = []

        def start_profiler() -> None:  # once the step's sessions exist: their creation is not the turn's
            if args.no_profile:
                return
            argv = [str(servers.VENV_BIN / "py-spy"), "record", "--gil", "--nonblocking"]
            argv += ["-p", str(server.process.pid), "-f", args.format, "-o", str(out)]
            argv += ["-d", str(int(args.seconds) + 5)]
            recorders.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(1.0)

        cell = Cell()
        # Sessions are made beforehand for every turn a client may send (8 turns each), so size it. A stream
        # lasts 64 x 20 ms: each client opens one after another until the time is up.
        per_worker = math.ceil(args.seconds / 1.3 if stream else 1500 * args.seconds / args.clients)
        run_step(
            arm,
            stream=stream,
            level=args.clients,
            per_worker=per_worker,
            duration=args.seconds,
            cell=cell,
            ready=start_profiler,
        )
        used = cell.cpu_seconds  # the load step's own CPU, without making its sessions
        for recorder in recorders:
            recorder.send_signal(2)
            recorder.wait(timeout=30)
        n = len(cell.latency)
        print(f"{args.mode} x {args.clients} on {args.backend}: {n} requests, {cell.rps or 0:.0f} req/s, "
              f"{used / max(n, 1) * 1000:.2f} ms CPU per request, errors {len(cell.errors)}")  # fmt: skip
        if recorders:
            print(f"profile: {out}")


if __name__ == "__main__":
    main()
