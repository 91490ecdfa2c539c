"""The mock upstream as a subprocess, and a models file that routes chatkeep model ids to its scenarios."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]

# Public model id → (provider, the upstream model name that picks the mock's behaviour).
MODELS: dict[str, tuple[str, str]] = {
    "mock-stream": ("mock", "stream"),
    "mock-slow": ("mock", "stream:deltas=400,interval=0.05"),
    "mock-medium": ("mock", "stream:deltas=60,interval=0.05"),
    "mock-silent": ("mock", "stall:delay=20"),
    "mock-500": ("mock", "http-500"),
    "mock-429": ("mock", "http-429:after=1"),
    "mock-flaky": ("mock", "flaky:fails=1"),
    "mock-malformed": ("mock", "malformed:after=2"),
    "mock-cut": ("mock", "cut:after=3"),
    "mock-hang": ("mock-impatient", "hang"),
    "mock-stall": ("mock-impatient", "stall"),
    "mock-refused": ("nowhere", "stream"),
}
# The impatient provider's whole-call limit: it is also its first-token limit (see registry.build_provider).
IMPATIENT_TIMEOUT = 1.5


class MockUpstreamProcess:
    """`python -m tests.mock_upstream` on a free 127.0.0.1 port."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.mock_upstream", "--port", str(self.port)],
            cwd=REPO_ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mock upstream exited early:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/_mock/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("mock upstream did not start")

    async def requests(self, marker: str) -> list[dict[str, Any]]:
        """What the upstream recorded for chat requests whose last user message was `marker`."""
        async with httpx.AsyncClient(timeout=5) as http:
            response = await http.get(f"{self.url}/_mock/requests", params={"marker": marker})
        response.raise_for_status()
        rows: list[dict[str, Any]] = response.json()
        return rows

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def models_yaml(upstream_url: str, refused_port: int) -> str:
    """A models file: every MODELS entry, three providers (normal, impatient, nothing listening)."""
    lines = [
        "embedded: false",
        "default_model: mock-stream",
        "providers:",
        f'  mock: {{type: openai, base_url: "{upstream_url}/v1", max_retries: 2}}',
        f'  mock-impatient: {{type: openai, base_url: "{upstream_url}/v1", max_retries: 2,'
        f" timeout_seconds: {IMPATIENT_TIMEOUT}}}",
        f'  nowhere: {{type: openai, base_url: "http://127.0.0.1:{refused_port}/v1", max_retries: 2}}',
        "models:",
    ]
    for model_id, (provider, upstream) in MODELS.items():
        lines.append(
            f'  - {{id: {model_id}, provider: {provider}, upstream_model: "{upstream}",'
            " context_window: 8192, max_output_tokens: 1024,"
            " pricing: {input_per_m: 1.0, output_per_m: 2.0}}"
        )
    return "\n".join(lines) + "\n"
