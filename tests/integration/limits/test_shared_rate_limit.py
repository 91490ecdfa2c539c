"""Two real `chatkeep serve` processes on one Redis share an organisation's request limit."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from chatkeep.core.limits import WINDOW_SECONDS
from tests.support import LiveServer, Tenant

pytestmark = pytest.mark.integration


def _start_in_a_fresh_window(margin: float = 10.0) -> None:
    """Setup, not an assertion: begin far enough from a minute boundary that all requests share one window."""
    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < margin:
        time.sleep(left + 0.05)


async def test_two_servers_on_one_redis_share_the_limit(
    database_url: str, tenant: Tenant, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    env = {
        "CHATKEEP_REDIS_URL": redis_url,
        "CHATKEEP_REDIS_KEY_PREFIX": redis_prefix,
        "CHATKEEP_RATE_LIMIT_RPM": "4",
    }
    servers = [LiveServer(database_url, tmp_path / f"server-{i}.log", env) for i in range(2)]
    try:
        _start_in_a_fresh_window()
        path = f"/api/v3/organizations/{tenant.name}/ai/sessions"
        headers = {"Authorization": f"Bearer {tenant.service}"}
        async with httpx.AsyncClient(timeout=10) as client:
            responses = [await client.get(servers[i % 2].url + path, headers=headers) for i in range(5)]
            waldur = await client.get(
                servers[0].url + "/api/chat-threads/", headers={"Authorization": f"Token {tenant.admin}"}
            )
    finally:
        for server in servers:
            server.stop()
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    assert 1 <= int(responses[-1].headers["Retry-After"]) <= WINDOW_SECONDS
    assert responses[-1].json()["error"] == "rate_limited"
    assert waldur.status_code == 429 and "throttled" in waldur.json()["detail"]
