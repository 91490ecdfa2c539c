"""A live `chatkeep serve` whose models are the mock upstream's scenarios, for the official `openai` SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from chatkeep.storage.database import Database
from tests.reliability.upstream import MockUpstreamProcess
from tests.support import LiveServer, Tenant, make_tenant

# Public model id → (the mock upstream's scenario, capabilities).
MODELS = {
    "gpt-mock": (
        "stream:deltas=3,interval=0",
        "[text, streaming, tools, image, document, structured_output]",
    ),
    "gpt-mock-slow": ("stream:deltas=400,interval=0.05", "[text, streaming]"),
    "gpt-mock-json": ("json", "[text, streaming, structured_output]"),
    "gpt-mock-tool": ("tool", "[text, streaming, tools]"),
    "gpt-mock-500": ("http-500", "[text, streaming]"),
    "embed-mock": ("stream", "[embeddings]"),
}


def models_yaml(upstream_url: str) -> str:
    lines = [
        "embedded: false",
        "default_model: gpt-mock",
        "providers:",
        f'  mock: {{type: openai, base_url: "{upstream_url}/v1", max_retries: 0}}',
        "models:",
    ]
    for model_id, (scenario, capabilities) in MODELS.items():
        lines.append(
            f'  - {{id: {model_id}, provider: mock, upstream_model: "{scenario}",'
            f" capabilities: {capabilities}, context_window: 8192, max_output_tokens: 1024,"
            " pricing: {input_per_m: 1.0, output_per_m: 2.0}}"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def openai_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockUpstreamProcess]:
    upstream = MockUpstreamProcess(tmp_path_factory.mktemp("openai-upstream") / "upstream.log")
    try:
        yield upstream
    finally:
        upstream.stop()


@pytest.fixture(scope="session")
def openai_server(
    database_url: str,
    db: Database,
    openai_upstream: MockUpstreamProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """A real `chatkeep serve` on the session database, its models served by the mock upstream."""
    root = tmp_path_factory.mktemp("openai-server")
    models = Path(root) / "models.yaml"
    models.write_text(models_yaml(openai_upstream.url))
    env = {
        "CHATKEEP_MODELS_FILE": str(models),
        "CHATKEEP_FIRST_TOKEN_TIMEOUT_SECONDS": "10",
        "CHATKEEP_PROVIDER_TIMEOUT_SECONDS": "60",
        "CHATKEEP_PURGE_INTERVAL_SECONDS": "3600",
    }
    server = LiveServer(database_url, Path(root) / "server.log", extra_env=env)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def org(db: Database) -> Tenant:
    return await make_tenant(db)


def sdk(server: LiveServer, token: str) -> openai.OpenAI:
    """The official client exactly as an app configures it: only `base_url` and `api_key` change."""
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=token, max_retries=0, timeout=60)
