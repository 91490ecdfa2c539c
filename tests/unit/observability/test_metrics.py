"""/metrics over the in-process app: what a turn, a guard verdict and a refusal add to the scrape."""

from __future__ import annotations

import httpx

from chatkeep.app import create_app
from chatkeep.settings import Settings
from tests.fakes import Script, ScriptedProvider
from tests.support import Tenant
from tests.unit.dialects.test_quant_chat import ai, chat
from tests.unit.dialects.test_quant_sessions import bearer
from tests.unit.observability.metrics_reading import samples, value

CHAT_ROUTE = "/api/v3/organizations/{organisation}/ai/chat"
STREAM_ROUTE = "/api/v3/organizations/{organisation}/ai/chat/stream"


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


async def test_a_turn_counts_its_request_durations_and_tokens(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    before = await scrape(scripted_client)
    assert (await chat(scripted_client, tenant)).status_code == 200
    streamed = await chat(scripted_client, tenant, "/chat/stream")
    assert streamed.status_code == 200
    after = await scrape(scripted_client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("chatkeep_http_requests_total", method="POST", route=CHAT_ROUTE, status="200") == 1
    assert delta("chatkeep_http_requests_total", method="POST", route=STREAM_ROUTE, status="200") == 1
    assert delta("chatkeep_turn_duration_seconds_count", model="scripted-text") == 2
    assert delta("chatkeep_turn_time_to_first_token_seconds_count", model="scripted-text") == 2
    # Three deltas per answer: two gaps each.
    assert delta("chatkeep_turn_inter_token_seconds_count", model="scripted-text") == 4
    tokens = {"org": tenant.name, "model": "scripted-text"}
    assert value(after, "chatkeep_model_tokens_total", direction="input", **tokens) == 22
    assert value(after, "chatkeep_model_tokens_total", direction="output", **tokens) == 6
    assert delta("chatkeep_turns_total", model="scripted-text", outcome="complete") == 2
    assert delta("chatkeep_guard_verdicts_total", category="none", action="allow") >= 2
    assert value(after, "chatkeep_open_streams") == 0
    # The scrape itself was counted by the time of the second one; raw paths never become labels.
    assert delta("chatkeep_http_requests_total", method="GET", route="/metrics", status="200") == 1
    assert not any(tenant.name in dict(labels).get("route", "") for _, labels in after)


async def test_upstream_errors_and_unmatched_paths_are_counted_by_kind(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    before = await scrape(scripted_client)
    scripted.script = Script(deltas=["a", "b"], fail_after=1, usage=None)
    await chat(scripted_client, tenant, "/chat/stream")
    missing = await scripted_client.get(f"/no/such/{tenant.name}")
    assert missing.status_code == 404
    after = await scrape(scripted_client)
    assert (
        value(after, "chatkeep_upstream_errors_total", model="scripted-text", kind="upstream")
        - value(before, "chatkeep_upstream_errors_total", model="scripted-text", kind="upstream")
        == 1
    )
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert (
        value(after, "chatkeep_http_requests_total", **unmatched)
        - value(before, "chatkeep_http_requests_total", **unmatched)
        == 1
    )


async def test_guard_verdicts_count_categories_and_actions(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    before = await scrape(scripted_client)
    leaked = "my key is AKIAIOSFODNN7EXAMPLE and my email is someone@example.com"
    await chat(scripted_client, tenant, messages=[{"role": "user", "content": leaked}])
    after = await scrape(scripted_client)
    grown = {
        dict(labels)["category"]: dict(labels)["action"]
        for (name, labels), v in after.items()
        if name == "chatkeep_guard_verdicts_total" and v > before.get((name, labels), 0)
    }
    assert grown and "none" not in grown, grown
    assert set(grown.values()) <= {"flag", "redact", "block"}


async def test_rate_limit_refusals_are_counted(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    config = await scripted_client.put(
        f"{ai(tenant)}/config", json={"requests_per_minute": 1}, headers=bearer(tenant.admin)
    )
    assert config.status_code == 200, config.text
    before = await scrape(scripted_client)
    statuses = [(await chat(scripted_client, tenant)).status_code for _ in range(3)]
    after = await scrape(scripted_client)
    refused = statuses.count(429)
    assert refused >= 2, statuses
    limit = {"limit": "requests_per_minute"}
    assert (
        value(after, "chatkeep_limit_refusals_total", **limit)
        - value(before, "chatkeep_limit_refusals_total", **limit)
        == refused
    )


async def test_metrics_token_is_required_when_configured(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"metrics_token": "s3cret-scrape"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test") as http:
            assert (await http.get("/metrics")).status_code == 401
            wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
            right = await http.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
            assert right.status_code == 200 and "chatkeep_http_requests_total" in right.text


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    kept = await client.get("/healthz", headers={"X-Request-ID": "req-123"})
    assert kept.headers["x-request-id"] == "req-123"
    replaced = await client.get("/healthz", headers={"X-Request-ID": "bad value\twith spaces"})
    assert replaced.headers["x-request-id"] != "bad value\twith spaces"
