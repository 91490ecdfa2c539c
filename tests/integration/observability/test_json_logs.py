"""`chatkeep serve` with CHATKEEP_LOG_FORMAT=json: every line is a JSON object; requests are logged with
their id, organisation, route template, status and duration; no message content and no token reaches them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from chatkeep.storage.database import Database
from tests.reliability.upstream import MockUpstreamProcess, models_yaml
from tests.support import LiveServer, Tenant, free_port

pytestmark = pytest.mark.integration


async def test_json_log_lines_carry_request_facts_and_no_content(
    database_url: str, db: Database, tenant: Tenant, tmp_path: Path
) -> None:
    upstream = MockUpstreamProcess(tmp_path / "upstream.log")
    models = tmp_path / "models.yaml"
    models.write_text(models_yaml(upstream.url, refused_port=free_port()))
    log_path = tmp_path / "server.log"
    marker = f"secret-{uuid.uuid4().hex}"
    server = LiveServer(
        database_url,
        log_path,
        {"CHATKEEP_LOG_FORMAT": "json", "CHATKEEP_LOG_LEVEL": "debug", "CHATKEEP_MODELS_FILE": str(models)},
    )
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            chat = await http.post(
                f"/api/v3/organizations/{tenant.name}/ai/chat",
                json={"modelId": "mock-stream", "messages": [{"role": "user", "content": marker}]},
                headers={"Authorization": f"Bearer {tenant.member}", "X-Request-ID": "trace-me-1"},
            )
            assert chat.status_code == 200, chat.text
            refused = await http.get(
                f"/api/v3/organizations/{tenant.name}/ai/sessions/{uuid.uuid4()}",
                headers={"Authorization": f"Bearer {tenant.member}"},
            )
            assert refused.status_code == 404
    finally:
        server.stop()
        upstream.stop()
    text = log_path.read_text()
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert records and len(records) == len([line for line in text.splitlines() if line.strip()]) - 1
    access = [r for r in records if r["logger"] == "chatkeep.access"]
    chat_line = next(r for r in access if r.get("request_id") == "trace-me-1")
    assert chat_line["org"] == tenant.name and chat_line["status"] == 200
    assert chat_line["route"] == "/api/v3/organizations/{organisation}/ai/chat"
    assert chat_line["method"] == "POST" and chat_line["duration_ms"] > 0
    missing = next(r for r in access if r["status"] == 404)
    assert missing["route"] == "/api/v3/organizations/{organisation}/ai/sessions/{sessionId}"
    assert marker not in text and tenant.member not in text and "Bearer" not in text
