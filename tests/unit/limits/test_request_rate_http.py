"""Requests per minute per organisation over HTTP, in both dialects, with each counter backend."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from tests.support import Tenant, free_port
from tests.unit.limits.conftest import Clock, MakeApp


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def token(secret: str) -> dict[str, str]:
    return {"Authorization": f"Token {secret}"}


def sessions_url(tenant: Tenant, family: str = "/api/v3/organizations") -> str:
    return f"{family}/{tenant.name}/ai/sessions"


async def list_sessions(client: httpx.AsyncClient, tenant: Tenant, secret: str | None = None) -> int:
    response = await client.get(sessions_url(tenant), headers=bearer(secret or tenant.service))
    return response.status_code


async def test_quant_calls_over_the_limit_get_429_with_retry_after_until_the_window_ends(
    make_app: MakeApp, counter_settings: dict[str, Any], tenant: Tenant, clock: Clock
) -> None:
    limited = await make_app(rate_limit_rpm=3, **counter_settings)
    client = limited.client
    assert [await list_sessions(client, tenant) for _ in range(3)] == [200, 200, 200]

    refused = await client.get(sessions_url(tenant), headers=bearer(tenant.service))
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "40"  # the clock stands 20.5 s into its minute
    body = refused.json()
    assert body["error"] == "rate_limited" and "3 requests per minute" in body["message"]
    assert body["retryAfterSeconds"] == 40 and body["limit"] == "requests_per_minute"
    assert body["resetAt"].endswith(":00Z")
    # Every path family, and every token of the organisation, draws on the same budget.
    other_family = await client.get(sessions_url(tenant, "/organisations"), headers=bearer(tenant.member))
    assert other_family.status_code == 429

    clock.advance(39.4)
    assert await list_sessions(client, tenant) == 429, "still inside the window"
    clock.advance(0.2)
    assert await list_sessions(client, tenant) == 200, "a new window starts at the minute"


async def test_waldur_calls_over_the_limit_get_a_drf_and_waldur_shaped_429(
    make_app: MakeApp, counter_settings: dict[str, Any], tenant: Tenant
) -> None:
    limited = await make_app(rate_limit_rpm=2, **counter_settings)
    client = limited.client
    for _ in range(2):
        assert (
            await client.get("/api/chat-sessions/current/", headers=token(tenant.member))
        ).status_code == 200

    refused = await client.get("/api/chat-threads/", headers=token(tenant.admin))
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "40"
    body = refused.json()
    assert body["detail"] == "Request was throttled. Expected available in 40 seconds."
    assert body["error"] == "rate_limited" and body["code"] == "requests_per_minute"
    assert body["retry_after_seconds"] == 40 and body["reset_at"].endswith(":00Z")
    # The stream is refused before it starts: a JSON 429, no NDJSON, no model call.
    stream = await client.post("/api/chat/stream/", json={"input": "Hello"}, headers=token(tenant.member))
    assert stream.status_code == 429 and stream.headers["content-type"] == "application/json"
    assert limited.provider.requests == []


async def test_one_organisations_burst_does_not_limit_another(
    make_app: MakeApp, counter_settings: dict[str, Any], tenant: Tenant, other_tenant: Tenant
) -> None:
    limited = await make_app(rate_limit_rpm=2, **counter_settings)
    client = limited.client
    assert [await list_sessions(client, tenant) for _ in range(3)] == [200, 200, 429]
    assert [await list_sessions(client, other_tenant) for _ in range(2)] == [200, 200]
    assert await list_sessions(client, other_tenant) == 429


async def test_calls_that_fail_authentication_count_against_no_organisation(
    make_app: MakeApp, tenant: Tenant
) -> None:
    limited = await make_app(rate_limit_rpm=1)
    client = limited.client
    for _ in range(5):
        response = await client.get(sessions_url(tenant), headers=bearer("ck_not-a-real-token"))
        assert response.status_code == 401
    assert await list_sessions(client, tenant) == 200
    assert (await client.get("/healthz")).status_code == 200  # probes are not API calls
    assert await list_sessions(client, tenant) == 429


async def test_the_organisations_config_overrides_the_server_default(
    make_app: MakeApp, tenant: Tenant, clock: Clock
) -> None:
    limited = await make_app(rate_limit_rpm=100)
    client = limited.client
    config_url = f"/api/v3/organizations/{tenant.name}/ai/config"
    admin = bearer(tenant.admin)
    assert (await client.put(config_url, json={"requests_per_minute": 3}, headers=admin)).status_code == 200
    config = (await client.get(config_url, headers=admin)).json()
    assert config["requests_per_minute"] == 3 and config["monthly_token_quota"] is None
    assert [await list_sessions(client, tenant) for _ in range(2)] == [200, 429]  # PUT and GET counted

    clock.advance(60)
    unlimited = await client.put(config_url, json={"requests_per_minute": -1}, headers=admin)
    assert unlimited.status_code == 200
    assert {await list_sessions(client, tenant) for _ in range(150)} == {200}

    clock.advance(60)
    assert (
        await client.put(config_url, json={"requests_per_minute": None}, headers=admin)
    ).status_code == 200
    # The server default (100) applies again; the PUT ran while unlimited, when nothing is counted.
    statuses = [await list_sessions(client, tenant) for _ in range(101)]
    assert statuses.count(200) == 100 and statuses[-1] == 429

    clock.advance(60)
    invalid = await client.put(config_url, json={"requests_per_minute": -2}, headers=admin)
    assert invalid.status_code == 400 and invalid.json()["field"] == "requests_per_minute"


async def test_two_apps_on_one_redis_share_the_limit_and_in_process_counters_do_not(
    make_app: MakeApp, redis_url: str, redis_prefix: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    shared = {"rate_limit_rpm": 3, "redis_url": redis_url, "redis_key_prefix": redis_prefix}
    first, second = (await make_app(**shared)).client, (await make_app(**shared)).client
    assert [await list_sessions(c, tenant) for c in (first, second, first)] == [200, 200, 200]
    assert await list_sessions(second, tenant) == 429
    assert await list_sessions(first, tenant) == 429

    # Without Redis each process counts on its own: two replicas let through twice the limit.
    alone = {"rate_limit_rpm": 3, "redis_url": None}
    third, fourth = (await make_app(**alone)).client, (await make_app(**alone)).client
    assert [await list_sessions(third, other_tenant) for _ in range(3)] == [200, 200, 200]
    assert [await list_sessions(fourth, other_tenant) for _ in range(3)] == [200, 200, 200]


async def test_an_unreachable_redis_lets_requests_through_and_warns_once(
    make_app: MakeApp, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="chatkeep.core.limits")
    limited = await make_app(rate_limit_rpm=1, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    assert [await list_sessions(limited.client, tenant) for _ in range(3)] == [200, 200, 200]
    warnings = [r for r in caplog.records if r.name == "chatkeep.core.limits"]
    assert len(warnings) == 1 and "not being limited" in warnings[0].getMessage()
