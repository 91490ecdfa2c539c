"""Tenant and user isolation on every Quant sessions endpoint: outsiders get nothing and change nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.support import Tenant
from tests.unit.dialects.test_quant_sessions import FAMILIES, bearer

# (method, path under the family prefix, json body or None)
SESSION_CALLS = [
    ("GET", "/sessions/{sid}", None),
    (
        "PUT",
        "/sessions/{sid}",
        {
            "newMessages": [{"role": "user", "content": "intruder"}],
            "tokensUsed": 999,
            "status": "completed",
            "metadata": {"pwned": True},
        },
    ),
    ("PUT", "/sessions/{sid}/extend", {"additionalMinutes": 1440}),
    ("DELETE", "/sessions/{sid}", None),
]


async def owned_session(client: httpx.AsyncClient, tenant: Tenant) -> tuple[str, dict]:
    user = tenant.member_user(0)
    response = await client.post(
        f"/api/v3/organizations/{tenant.name}/ai/sessions",
        json={"userId": user, "initialMessages": [{"role": "user", "content": "secret"}]},
        headers=bearer(tenant.members[user]),
    )
    assert response.status_code == 201, response.text
    sid = response.json()["sessionId"]
    snapshot = (
        await client.get(
            f"/api/v3/organizations/{tenant.name}/ai/sessions/{sid}", headers=bearer(tenant.admin)
        )
    ).json()
    return sid, snapshot


async def assert_unchanged(client: httpx.AsyncClient, tenant: Tenant, sid: str, snapshot: dict) -> None:
    now = await client.get(
        f"/api/v3/organizations/{tenant.name}/ai/sessions/{sid}", headers=bearer(tenant.admin)
    )
    assert now.status_code == 200
    assert now.json() == snapshot


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(("method", "path", "body"), SESSION_CALLS)
async def test_other_organisation_gets_403_and_changes_nothing(
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    family: str,
    method: str,
    path: str,
    body: dict,
) -> None:
    sid, snapshot = await owned_session(client, tenant)
    for token in (other_tenant.admin, other_tenant.service, other_tenant.member):
        # The victim's organisation in the path, the attacker's token: forbidden, nothing revealed.
        url = family.format(org=tenant.name) + path.format(sid=sid)
        response = await client.request(method, url, json=body, headers=bearer(token))
        assert response.status_code == 403, response.text
        assert "secret" not in response.text
        # The attacker's own organisation in the path: the session simply does not exist there.
        url = family.format(org=other_tenant.name) + path.format(sid=sid)
        response = await client.request(method, url, json=body, headers=bearer(token))
        assert response.status_code == 404, response.text
    await assert_unchanged(client, tenant, sid, snapshot)


@pytest.mark.parametrize(("method", "path", "body"), SESSION_CALLS)
async def test_member_of_same_org_cannot_touch_another_users_session(
    client: httpx.AsyncClient, tenant: Tenant, method: str, path: str, body: dict
) -> None:
    sid, snapshot = await owned_session(client, tenant)
    intruder = tenant.members[tenant.member_user(1)]
    url = f"/api/v3/organizations/{tenant.name}/ai" + path.format(sid=sid)
    response = await client.request(method, url, json=body, headers=bearer(intruder))
    assert response.status_code == 404
    assert "secret" not in response.text
    await assert_unchanged(client, tenant, sid, snapshot)


async def test_lists_are_scoped_to_org_and_to_member(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    sid, _ = await owned_session(client, tenant)
    other_sid, _ = await owned_session(client, other_tenant)
    url = f"/api/v3/organizations/{tenant.name}/ai/sessions"
    admin_view = {s["id"] for s in (await client.get(url, headers=bearer(tenant.admin))).json()}
    assert sid in admin_view and other_sid not in admin_view
    owner = tenant.member_user(0)
    owner_view = (await client.get(url, headers=bearer(tenant.members[owner]))).json()
    assert {s["userId"] for s in owner_view} == {owner}
    intruder = tenant.members[tenant.member_user(1)]
    assert (await client.get(url, headers=bearer(intruder))).json() == []
    peek = await client.get(url, params={"userId": owner}, headers=bearer(intruder))
    assert peek.status_code == 403
    assert (await client.get(url, headers=bearer(other_tenant.admin))).status_code == 403


async def test_member_cannot_create_for_another_user_but_service_can(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    url = f"/api/v3/organizations/{tenant.name}/ai/sessions"
    denied = await client.post(url, json={"userId": "someone-else"}, headers=bearer(tenant.member))
    assert denied.status_code == 403
    allowed = await client.post(url, json={"userId": "someone-else"}, headers=bearer(tenant.service))
    assert allowed.status_code == 201 and allowed.json()["userId"] == "someone-else"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer ck_wrong"},
        {"Authorization": "Bearer " + "x" * 5000},
    ],
)
async def test_missing_or_bad_credentials_get_401(
    client: httpx.AsyncClient, tenant: Tenant, headers: dict
) -> None:
    response = await client.get(f"/api/v3/organizations/{tenant.name}/ai/sessions", headers=headers)
    assert response.status_code == 401
    assert response.headers.get("www-authenticate") == "Bearer"
    assert response.json()["error"] == "unauthenticated"
