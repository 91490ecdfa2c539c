"""Spans for the request, guards, database and model call, captured with OpenTelemetry's in-memory
exporter; trace ids in log lines; and nothing of OpenTelemetry loaded when tracing is off."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from chatkeep.app import create_app
from chatkeep.observability import tracing
from chatkeep.observability.logs import JsonFormatter, RequestFactsFilter
from chatkeep.providers.registry import ModelRegistry
from chatkeep.settings import Settings
from tests.conftest import SCRIPTED_MODELS
from tests.fakes import ScriptedProvider
from tests.support import Tenant
from tests.unit.dialects.test_quant_chat import chat


@pytest.fixture
async def traced(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    tracing.start(exporter=exporter)
    try:
        registry = ModelRegistry(SCRIPTED_MODELS, {"scripted": ScriptedProvider()})
        app = create_app(settings.model_copy(update={"log_format": "json"}), registry=registry)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test") as http:
                yield http, exporter
    finally:
        tracing.stop()


async def test_a_chat_request_is_one_trace_with_guard_database_and_model_spans(
    traced: tuple[httpx.AsyncClient, InMemorySpanExporter], tenant: Tenant
) -> None:
    client, exporter = traced
    exporter.clear()
    secret_text = "tell nobody: the password is swordfish"
    response = await chat(client, tenant, "/chat/stream", messages=[{"role": "user", "content": secret_text}])
    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    server = [s for s in spans if s.kind is SpanKind.SERVER]
    assert len(server) == 1
    assert server[0].attributes is not None
    assert server[0].attributes.get("http.route") == "/api/v3/organizations/{organisation}/ai/chat/stream"
    trace_id = server[0].context.trace_id
    # The background housekeeping runs its own statements in traces of its own; the rest is the request's.
    spans = [s for s in spans if s.context.trace_id == trace_id]
    names = [s.name for s in spans]
    assert "chatkeep.guards.scan" in names and "chatkeep.model_call" in names
    statements = [
        str((s.attributes or {}).get("db.statement", "")) for s in spans if s.kind is SpanKind.CLIENT
    ]
    assert any("api_tokens" in q for q in statements), "the token lookup"
    assert any(q.startswith("INSERT INTO usage_records") for q in statements), "the usage row"
    model = next(s for s in spans if s.name == "chatkeep.model_call")
    assert model.attributes is not None and model.attributes["gen_ai.request.model"] == "scripted-upstream"
    assert model.attributes["chatkeep.events"] >= 3
    guard = next(s for s in spans if s.name == "chatkeep.guards.scan")
    assert guard.end_time is not None and guard.end_time >= guard.start_time
    # Spans name what happened, never what was said: no text, and bound SQL parameters are not recorded.
    for span in spans:
        assert "swordfish" not in json.dumps(dict(span.attributes or {}), default=str)


async def test_log_lines_carry_the_trace_id_and_request_facts(
    traced: tuple[httpx.AsyncClient, InMemorySpanExporter], tenant: Tenant
) -> None:
    client, exporter = traced
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestFactsFilter())
    access = logging.getLogger("chatkeep.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        exporter.clear()
        response = await chat(client, tenant)
    finally:
        access.removeHandler(handler)
    assert response.status_code == 200
    line = json.loads(records[-1])
    server = next(s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER)
    assert line["trace_id"] == format(server.context.trace_id, "032x")
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["org"] == tenant.name and line["status"] == 200
    assert line["route"] == "/api/v3/organizations/{organisation}/ai/chat"
    assert line["duration_ms"] > 0 and "Hello" not in records[-1]


def test_tracing_off_loads_no_exporter_and_no_instrumentation(tmp_path: Path) -> None:
    # FastAPI imports the OpenTelemetry API (a no-op without a provider), and redis-py imports the SDK
    # when it is installed; what tracing itself adds (exporter, instrumentation) stays unloaded.
    script = (
        "import sys\n"
        "from chatkeep.app import create_app\n"
        "from chatkeep.observability import tracing\n"
        "create_app()\n"
        "assert not tracing.enabled()\n"
        "print(sorted(m for m in sys.modules if m.startswith(("
        "'opentelemetry.exporter', 'opentelemetry.instrumentation'))))\n"
    )
    env = {
        "CHATKEEP_DATA_DIR": str(tmp_path),
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
