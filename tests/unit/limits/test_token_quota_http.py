"""The monthly token quota over HTTP: refused before the model is called, in every dialect, until the 1st."""

from __future__ import annotations

import math
from typing import Any

import httpx

from chatkeep.core.limits import month_window
from tests.support import Tenant
from tests.unit.limits.conftest import Clock, MakeApp

CHAT = {"modelId": "limited-text", "messages": [{"role": "user", "content": "Hi"}]}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def ai(tenant: Tenant) -> str:
    return f"/api/v3/organizations/{tenant.name}/ai"


async def chat(client: httpx.AsyncClient, tenant: Tenant, path: str = "/chat") -> httpx.Response:
    return await client.post(ai(tenant) + path, json=CHAT, headers=bearer(tenant.service))


async def test_the_quota_refuses_turns_in_every_dialect_until_the_next_month(
    make_app: MakeApp, tenant: Tenant, clock: Clock
) -> None:
    limited = await make_app()
    client = limited.client
    quota = {"monthly_token_quota": 20}
    assert (
        await client.put(ai(tenant) + "/config", json=quota, headers=bearer(tenant.admin))
    ).status_code == 200

    first = await chat(client, tenant)
    assert first.status_code == 200 and first.json()["usage"]["totalTokens"] == 14
    second = await chat(client, tenant)  # 14 < 20 before the call: allowed, and it overshoots to 28
    assert second.status_code == 200
    model_calls = len(limited.provider.requests)

    _, next_month = month_window(clock.now)
    expected_wait = math.ceil(next_month.timestamp() - clock.now)
    refused = await chat(client, tenant)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == str(expected_wait)
    body = refused.json()
    assert body["error"] == "rate_limited" and body["limit"] == "monthly_token_quota"
    assert "28 of 20" in body["message"] and body["retryAfterSeconds"] == expected_wait
    assert body["resetAt"] == next_month.strftime("%Y-%m-01T00:00:00Z")

    stream = await chat(client, tenant, "/chat/stream")
    assert stream.status_code == 429 and stream.headers["content-type"] == "application/json"
    embeddings = await client.post(
        ai(tenant) + "/embeddings",
        json={"input": "Hi", "modelId": "limited-text"},
        headers=bearer(tenant.service),
    )
    assert embeddings.status_code == 429
    waldur = await client.post(
        "/api/chat/stream/", json={"input": "Hi"}, headers={"Authorization": f"Token {tenant.member}"}
    )
    assert waldur.status_code == 429 and waldur.headers["Retry-After"] == str(expected_wait)
    assert waldur.json() == {
        "detail": "Monthly token limit exceeded.",
        "error": "rate_limited",
        "code": "monthly_token_quota",
        "reset_at": body["resetAt"],
        "retry_after_seconds": expected_wait,
    }
    assert len(limited.provider.requests) == model_calls, "a refused turn never reaches the model"
    sessions = await client.get(ai(tenant) + "/sessions", headers=bearer(tenant.service))
    assert sessions.status_code == 200, "the quota limits model calls, not the rest of the API"

    clock.now = next_month.timestamp()
    assert (await chat(client, tenant)).status_code == 200


async def test_the_server_default_quota_applies_unless_the_organisation_lifts_it(
    make_app: MakeApp, tenant: Tenant, other_tenant: Tenant
) -> None:
    limited = await make_app(monthly_token_quota=10)
    client = limited.client
    assert [(await chat(client, tenant)).status_code for _ in range(2)] == [200, 429]

    lift: dict[str, Any] = {"monthly_token_quota": -1}
    config = await client.put(ai(other_tenant) + "/config", json=lift, headers=bearer(tenant.admin))
    assert config.status_code == 403, "a token of one organisation cannot change another's config"
    lifted = await client.put(ai(other_tenant) + "/config", json=lift, headers=bearer(other_tenant.admin))
    assert lifted.status_code == 200
    assert [(await chat(client, other_tenant)).status_code for _ in range(3)] == [200, 200, 200]
    assert (await chat(client, tenant)).status_code == 429, "the other organisation is still over its quota"
