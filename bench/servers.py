"""The processes a benchmark runs against: the mock upstream, chatkeep (SQLite or PostgreSQL) and LiteLLM.

Each is a subprocess on 127.0.0.1 with a free port, started and stopped by a context manager, with its
output in a log file under the run's temporary directory. Nothing here talks to anything but loopback.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = Path(sys.executable).parent
LITELLM_BIN = BENCH / ".venvs" / "litellm" / "bin" / "litellm"
PG_ADMIN = os.environ.get("CHATKEEP_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
ORG = "bench"


def run_load(spec: dict[str, Any], *, timeout: float) -> dict[str, Any]:
    """Run the load generator (bench/loadgen.py) on `spec` in its own process; its JSON result."""
    done = subprocess.run(
        [sys.executable, str(BENCH / "loadgen.py")],
        input=json.dumps(spec).encode(),
        capture_output=True,
        timeout=timeout,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server: where it listens, how to authenticate, and its process (for memory figures)."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    token: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss(self) -> int:
        """Resident memory of the server and its children, in bytes."""
        try:
            proc = psutil.Process(self.process.pid)
            return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
        except psutil.Error:
            return 0


def _start(
    name: str, argv: list[str], *, port: int, env: dict[str, str], log: Path, ready_path: str, timeout: float
) -> Server:
    handle = log.open("wb")
    process = subprocess.Popen(argv, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=log.parent)
    handle.close()
    server = Server(name, port, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited early; see {log}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(server.url + ready_path, timeout=1.0).status_code == 200:
                return server
        time.sleep(0.2)
    _stop(server)
    raise RuntimeError(f"{name} did not become ready in {timeout:g} s; see {log}")


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        _stop(server)


def start_upstream(
    workdir: Path, *, deltas: int, interval: float, long_deltas: int = 400, long_interval: float | None = None
) -> Server:
    port = free_port()
    argv = [sys.executable, str(BENCH / "upstream.py"), "--port", str(port)]
    argv += ["--deltas", str(deltas), "--interval", str(interval), "--long-deltas", str(long_deltas)]
    argv += ["--long-interval", str(interval if long_interval is None else long_interval)]
    return _start(
        "upstream", argv, port=port, env=dict(os.environ), log=workdir / "upstream.log",
        ready_path="/v1/models", timeout=20,
    )  # fmt: skip


def write_models_file(workdir: Path, upstream: Server) -> Path:
    """Three models on the mock: one streams at its cadence, one answers at once, one streams long."""
    path = workdir / "models.yaml"
    path.write_text(
        f"""providers:
  mock: {{type: openai, base_url: "{upstream.url}/v1", max_retries: 0, tokenizer: cl100k_base}}
embedded: {{enabled: false}}
default_model: bench-stream
models:
  - {{id: bench-stream, provider: mock, upstream_model: stream, context_window: 32768}}
  - {{id: bench-buffered, provider: mock, upstream_model: buffered, context_window: 32768}}
  - {{id: bench-long, provider: mock, upstream_model: stream-long, context_window: 32768}}
"""
    )
    return path


def _absolute_pythonpath() -> dict[str, str]:
    """PYTHONPATH with relative entries made absolute: servers run in the run's temporary directory, where
    `PYTHONPATH=src` would find nothing and chatkeep would be imported from the installed package instead."""
    entries = os.environ.get("PYTHONPATH", "")
    if not entries:
        return {}
    return {"PYTHONPATH": os.pathsep.join(str(Path(e).resolve()) for e in entries.split(os.pathsep) if e)}


def _chatkeep_env(database_url: str, data_dir: Path, models_file: Path) -> dict[str, str]:
    return {
        **os.environ,
        **_absolute_pythonpath(),
        "CHATKEEP_DATABASE_URL": database_url,
        "CHATKEEP_DATA_DIR": str(data_dir),
        "CHATKEEP_MODELS_FILE": str(models_file),
        "CHATKEEP_BOOTSTRAP": "false",
        "CHATKEEP_LOG_LEVEL": "warning",
        "CHATKEEP_ACCESS_LOG": "false",
        "CHATKEEP_PURGE_INTERVAL_SECONDS": "3600",
        # The held-at-once ladder opens 1,000 streams besides the connections that made their sessions.
        "CHATKEEP_MAX_CONNECTIONS": "2000",
    }


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(VENV_BIN / "chatkeep"), *args], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def start_chatkeep(
    name: str,
    workdir: Path,
    database_url: str,
    models_file: Path,
    *,
    source: Path | None = None,
    extra_env: dict[str, str] | None = None,
    workers: int = 1,
) -> Server:
    """Migrate, create the `bench` organisation and a service token with the CLI, then serve.

    `source`: another `src` directory to run chatkeep from (e.g. an earlier commit, `git archive`d), put
    ahead of the installed package on PYTHONPATH, for a before/after comparison in one run.
    """
    data_dir = workdir / name
    data_dir.mkdir(exist_ok=True)
    env = {**_chatkeep_env(database_url, data_dir, models_file), **(extra_env or {})}
    if source is not None:
        env["PYTHONPATH"] = str(source.resolve())
    _cli(env, "org", "create", ORG)
    token = _cli(env, "token", "create", "--org", ORG, "--role", "service")
    port = free_port()
    argv = [str(VENV_BIN / "chatkeep"), "serve", "--port", str(port), "--workers", str(workers)]
    server = _start(
        name, argv, port=port, env=env, log=workdir / f"{name}.log", ready_path="/readyz", timeout=60
    )
    server.token = token
    return server


def start_litellm(workdir: Path, upstream: Server, *, workers: int = 1) -> Server:
    """LiteLLM's proxy on the same mock, with a master key (chatkeep authenticates too) and nothing that
    would reach outside this machine (the model price map is read from the package, not fetched)."""
    if not LITELLM_BIN.exists():
        raise RuntimeError(
            f"LiteLLM is not installed at {LITELLM_BIN}; run: {sys.executable} -m venv bench/.venvs/litellm "
            "&& bench/.venvs/litellm/bin/pip install 'litellm[proxy]'"
        )
    config = workdir / "litellm.yaml"
    params = f'api_base: "{upstream.url}/v1", api_key: not-needed, max_retries: 0'
    config.write_text(
        f"""model_list:
  - model_name: bench-stream
    litellm_params: {{model: openai/stream, {params}}}
  - model_name: bench-buffered
    litellm_params: {{model: openai/buffered, {params}}}
  - model_name: bench-long
    litellm_params: {{model: openai/stream-long, {params}}}
litellm_settings:
  drop_params: true
"""
    )
    key = "sk-bench-" + secrets.token_hex(16)
    env = {
        **os.environ,
        "LITELLM_MASTER_KEY": key,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_LOG": "ERROR",
        "LITELLM_TELEMETRY": "False",
        "NO_PROXY": "*",
    }
    port = free_port()
    argv = [str(LITELLM_BIN), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--num_workers", str(workers)]
    server = _start(
        "litellm", argv, port=port, env=env, log=workdir / "litellm.log",
        ready_path="/health/liveliness", timeout=180,
    )  # fmt: skip
    server.token = key
    return server


# ---- a throwaway PostgreSQL database ---------------------------------------------------------------


def _pg_admin_connect() -> tuple[str, str, int, str]:
    from sqlalchemy.engine import make_url

    url = make_url(PG_ADMIN)
    return url.username or "postgres", url.host or "127.0.0.1", url.port or 5432, url.database or "postgres"


async def _pg_exec(sql: str) -> None:
    import asyncpg

    user, host, port, database = _pg_admin_connect()
    conn = await asyncpg.connect(user=user, host=host, port=port, database=database)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def postgres_database(prefix: str = "chatkeep_bench") -> Iterator[str]:
    """Create a fresh database next to CHATKEEP_BENCH_POSTGRES's and drop it afterwards; yields its URL."""
    import asyncio

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    user, host, port, _ = _pg_admin_connect()
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://{user}@{host}:{port}/{name}"
    finally:
        asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
