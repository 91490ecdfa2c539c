"""The Quant AI Sessions API over the in-process app: shapes, defaults, bounds and errors."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
import pytest

from tests.support import Tenant

FAMILIES = [
    "/api/v3/organizations/{org}/ai",
    "/api/v3/organisations/{org}/ai",
    "/organisations/{org}/ai",
]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def base(tenant: Tenant, family: str = FAMILIES[0]) -> str:
    return family.format(org=tenant.name)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def create(client: httpx.AsyncClient, tenant: Tenant, token: str | None = None, **body: object) -> dict:
    body.setdefault("userId", "user-a")
    response = await client.post(
        f"{base(tenant)}/sessions", json=body, headers=bearer(token or tenant.service)
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("family", FAMILIES)
async def test_create_answers_201_with_superset_on_every_path_family(
    client: httpx.AsyncClient, tenant: Tenant, family: str
) -> None:
    response = await client.post(
        f"{base(tenant, family)}/sessions",
        json={"userId": "user-a", "sessionGroup": "drupal-prod", "metadata": {"k": 1}},
        headers=bearer(tenant.service),
    )
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["sessionId"] == body["id"]
    uuid.UUID(body["sessionId"])
    assert body["status"] == "active"
    assert body["userId"] == "user-a"
    assert body["sessionGroup"] == "drupal-prod"
    assert body["metadata"] == {"k": 1}
    lifetime = parse_time(body["expiresAt"]) - parse_time(body["createdAt"])
    assert timedelta(minutes=59) < lifetime <= timedelta(minutes=60, seconds=1)


async def test_create_with_initial_messages_and_get_returns_history(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await create(
        client,
        tenant,
        initialMessages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        expirationMinutes=5,
    )
    assert created["totalMessages"] == 2
    got = (
        await client.get(f"{base(tenant)}/sessions/{created['sessionId']}", headers=bearer(tenant.service))
    ).json()
    assert [(m["role"], m["content"]) for m in got["messages"]] == [("system", "Be brief."), ("user", "Hi")]
    assert [m["sequenceIndex"] for m in got["messages"]] == [1, 2]
    assert got["messages"][1]["parentId"] == got["messages"][0]["id"]
    assert got["created_at"] == got["createdAt"]


async def test_update_appends_adds_tokens_merges_metadata_and_sets_status(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await create(client, tenant, metadata={"keep": "yes", "drop": "x"})
    url = f"{base(tenant)}/sessions/{created['sessionId']}"
    first = await client.put(
        url,
        json={
            "newMessages": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}],
            "tokensUsed": 30,
        },
        headers=bearer(tenant.service),
    )
    assert first.status_code == 200, first.text
    second = await client.put(
        url,
        json={
            "newMessages": [{"role": "user", "content": "Q2"}],
            "tokensUsed": 12,
            "status": "completed",
            "metadata": {"drop": None, "new": 2},
        },
        headers=bearer(tenant.service),
    )
    body = second.json()
    assert body["totalMessages"] == 3
    assert body["totalTokens"] == 42
    assert body["status"] == "completed"
    assert body["metadata"] == {"keep": "yes", "new": 2}
    history = (await client.get(url, headers=bearer(tenant.service))).json()["messages"]
    assert [m["content"] for m in history] == ["Q1", "A1", "Q2"]


async def test_list_filters_paginates_and_orders_newest_first(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    ids = [
        (await create(client, tenant, userId=f"u{i % 2}", sessionGroup=f"g{i % 3}"))["id"] for i in range(7)
    ]
    url = f"{base(tenant)}/sessions"
    everything = (await client.get(url, headers=bearer(tenant.admin))).json()
    assert [s["id"] for s in everything] == ids[::-1]
    by_user = (await client.get(url, params={"userId": "u1"}, headers=bearer(tenant.admin))).json()
    assert {s["id"] for s in by_user} == {ids[i] for i in (1, 3, 5)}
    by_both = (
        await client.get(url, params={"userId": "u0", "sessionGroup": "g0"}, headers=bearer(tenant.admin))
    ).json()
    assert {s["id"] for s in by_both} == {ids[0], ids[6]}
    page1 = (await client.get(url, params={"limit": 3}, headers=bearer(tenant.admin))).json()
    page2 = (await client.get(url, params={"limit": 3, "offset": 3}, headers=bearer(tenant.admin))).json()
    page3 = (await client.get(url, params={"limit": 3, "offset": 6}, headers=bearer(tenant.admin))).json()
    assert [s["id"] for s in page1 + page2 + page3] == ids[::-1]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"limit": "x"}, "limit"),
    ],
)
async def test_list_rejects_out_of_range_paging(
    client: httpx.AsyncClient, tenant: Tenant, params: dict, field: str
) -> None:
    response = await client.get(f"{base(tenant)}/sessions", params=params, headers=bearer(tenant.admin))
    assert response.status_code == 400
    assert response.json()["field"] == field


async def test_extend_adds_minutes_and_caps_at_24_hours(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await create(client, tenant, expirationMinutes=10)
    url = f"{base(tenant)}/sessions/{created['sessionId']}/extend"
    before = parse_time(created["expiresAt"])
    default = await client.put(url, headers=bearer(tenant.service))
    assert default.status_code == 200, default.text
    assert default.json()["message"] == "Session extended by 60 minutes"
    assert parse_time(default.json()["expiresAt"]) - before == timedelta(minutes=60)
    for _ in range(2):
        capped = await client.put(url, json={"additionalMinutes": 1440}, headers=bearer(tenant.service))
    # The message states what was applied: the second call could add almost nothing.
    applied = int(capped.json()["message"].split()[3])
    assert applied < 5
    assert capped.json()["message"].endswith("(1440 requested; a session expires at most 24 hours from now)")
    assert parse_time(capped.json()["expiresAt"]) - datetime.now(
        parse_time(created["createdAt"]).tzinfo
    ) <= timedelta(hours=24, seconds=1)
    bad = await client.put(url, json={"additionalMinutes": 0}, headers=bearer(tenant.service))
    assert bad.status_code == 400 and bad.json()["field"] == "additionalMinutes"


async def test_delete_removes_session(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await create(client, tenant)
    url = f"{base(tenant)}/sessions/{created['sessionId']}"
    deleted = await client.delete(url, headers=bearer(tenant.service))
    assert deleted.status_code == 200 and deleted.json() == {"message": "Session deleted successfully"}
    assert (await client.get(url, headers=bearer(tenant.service))).status_code == 404
    assert (await client.delete(url, headers=bearer(tenant.service))).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "userId"),
        ({"userId": ""}, "userId"),
        ({"userId": 5}, "userId"),
        ({"userId": "u", "expirationMinutes": 4}, "expirationMinutes"),
        ({"userId": "u", "expirationMinutes": 1441}, "expirationMinutes"),
        ({"userId": "u", "initialMessages": [{"role": "wizard", "content": "x"}]}, "initialMessages.0.role"),
        ({"userId": "u", "metadata": []}, "metadata"),
    ],
)
async def test_create_validation_names_the_field(
    client: httpx.AsyncClient, tenant: Tenant, body: dict, field: str
) -> None:
    response = await client.post(f"{base(tenant)}/sessions", json=body, headers=bearer(tenant.service))
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert field.split(".")[0] in response.json()["message"]


async def test_malformed_json_and_bad_ids_are_clear_4xx(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        f"{base(tenant)}/sessions",
        content=b'{"userId": ',
        headers={**bearer(tenant.service), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["message"]
    # An id that is not a UUID names no session: 404, like an unknown one, on every session route.
    for method in ("GET", "PUT", "DELETE"):
        not_uuid = await client.request(
            method, f"{base(tenant)}/sessions/not-a-uuid", json={}, headers=bearer(tenant.service)
        )
        assert not_uuid.status_code == 404, (method, not_uuid.text)
    extend = await client.put(f"{base(tenant)}/sessions/12345/extend", headers=bearer(tenant.service))
    assert extend.status_code == 404
    unknown = await client.get(f"{base(tenant)}/sessions/{uuid.uuid4()}", headers=bearer(tenant.service))
    assert unknown.status_code == 404


async def test_oversized_body_gets_413_before_parsing(client: httpx.AsyncClient, tenant: Tenant) -> None:
    huge = b'{"userId": "u", "metadata": {"x": "' + b"a" * (35 * 1024 * 1024) + b'"}}'
    response = await client.post(
        f"{base(tenant)}/sessions",
        content=huge,
        headers={**bearer(tenant.service), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


async def test_chunked_oversized_body_gets_413(client: httpx.AsyncClient, tenant: Tenant) -> None:
    async def chunks():
        yield b'{"userId": "u", "metadata": {"x": "'
        for _ in range(35):
            yield b"a" * (1024 * 1024)
        yield b'"}}'

    response = await client.post(
        f"{base(tenant)}/sessions",
        content=chunks(),
        headers={**bearer(tenant.service), "content-type": "application/json"},
    )
    assert response.status_code == 413


PRIVATE_KEY = (
    "key: -----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n"
    "+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQ\n"
    "-----END RSA PRIVATE KEY-----"
)


async def test_appended_user_messages_pass_the_guards(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await create(
        client,
        tenant,
        initialMessages=[{"role": "user", "content": "My IBAN is GB82 WEST 1234 5698 7654 32"}],
    )
    url = f"{base(tenant)}/sessions/{created['sessionId']}"
    await client.put(
        url,
        json={
            "newMessages": [
                {
                    "role": "user",
                    "content": PRIVATE_KEY,
                },
                {"role": "assistant", "content": "I will not repeat that."},
            ]
        },
        headers=bearer(tenant.service),
    )
    history = (await client.get(url, headers=bearer(tenant.service))).json()["messages"]
    assert "GB82" not in history[0]["content"] and "REDACTED" in history[0]["content"]
    assert "MIIEowIBAAKCAQEA" not in history[1]["content"]
    assert history[2]["content"] == "I will not repeat that."
    flagged = (
        await client.get(
            "/api/chat-messages/",
            params={"thread": created["sessionId"]},
            headers={"Authorization": f"Token {tenant.admin}"},
        )
    ).json()
    assert [m["action_taken"] for m in flagged] == ["redact", "block", "allow"]


async def test_metadata_is_bounded_on_create_and_after_each_merge(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    too_big = await client.post(
        f"{base(tenant)}/sessions",
        json={"userId": "u", "metadata": {"x": "a" * (16 * 1024)}},
        headers=bearer(tenant.service),
    )
    assert too_big.status_code == 400, too_big.text
    assert too_big.json()["field"] == "metadata"
    nested = await client.post(
        f"{base(tenant)}/sessions",
        content=b'{"userId": "u", "metadata": {"x": ' + b"[" * 2000 + b"1" + b"]" * 2000 + b"}}",
        headers={**bearer(tenant.service), "content-type": "application/json"},
    )
    assert nested.status_code == 400, nested.text
    # Each update is small, but merged they would pass the bound: the second is refused, the first kept.
    session = await create(client, tenant, metadata={"a": "x" * (9 * 1024)})
    merged = await client.put(
        f"{base(tenant)}/sessions/{session['id']}",
        json={"metadata": {"b": "y" * (9 * 1024)}},
        headers=bearer(tenant.service),
    )
    assert merged.status_code == 400 and merged.json()["field"] == "metadata"
    stored = await client.get(f"{base(tenant)}/sessions/{session['id']}", headers=bearer(tenant.service))
    assert stored.json()["metadata"] == {"a": "x" * (9 * 1024)}
