"""Issue 12, findings 6 to 8: what members may read, the last day of the calendar, which models exist.

Each test runs against the scripted app served over real HTTP (see served_app.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from chatkeep.storage.database import Database
from tests.security.served_app import ServedApp
from tests.support import Tenant, make_tenant

pytestmark = pytest.mark.integration


@pytest.fixture
async def http(served_app: ServedApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served_app.url, timeout=30) as client:
        yield client


@pytest.fixture
async def org(db: Database) -> Tenant:
    return await make_tenant(db)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def ai(tenant: Tenant) -> str:
    return f"/api/v3/organizations/{tenant.name}/ai"


async def test_only_admins_read_the_system_prompt_and_guard_policy(
    http: httpx.AsyncClient, org: Tenant
) -> None:
    policy = {"injection": {"severities": {"low": "block"}}}
    saved = await http.put(
        f"{ai(org)}/config",
        json={"system_prompt": "Secret house rules.", "guard_policy": policy, "max_tokens": 64},
        headers=bearer(org.admin),
    )
    assert saved.status_code == 200, saved.text
    admin = (await http.get(f"{ai(org)}/config", headers=bearer(org.admin))).json()
    assert admin["system_prompt"] == "Secret house rules." and admin["guard_policy"] == policy
    for secret in (org.member, org.service):
        seen = await http.get(f"{ai(org)}/config", headers=bearer(secret))
        assert seen.status_code == 200
        body = seen.json()
        assert "system_prompt" not in body and "guard_policy" not in body, body
        assert "Secret house rules." not in seen.text
        assert body["max_tokens"] == 64 and "enabled_models" in body  # what a caller needs is still there


@pytest.mark.parametrize(
    "name", ["created", "created_before", "modified", "modified_before", "created_after", "modified_after"]
)
async def test_a_date_filter_on_the_last_day_of_the_calendar_is_a_clear_400(
    http: httpx.AsyncClient, org: Tenant, name: str
) -> None:
    response = await http.get(
        "/api/chat-threads/", params={name: "9999-12-31"}, headers={"Authorization": f"Token {org.admin}"}
    )
    if name.endswith("_after"):  # a lower bound needs no next day: a valid (empty) listing
        assert response.status_code == 200, response.text
        assert response.json() == []
        return
    assert response.status_code == 400, response.text
    assert list(response.json()) == [name]


async def test_unknown_and_not_enabled_models_answer_alike(http: httpx.AsyncClient, org: Tenant) -> None:
    enabled = await http.put(
        f"{ai(org)}/config",
        json={"enabled_models": ["scripted-all"], "default_model": "scripted-all"},
        headers=bearer(org.admin),
    )
    assert enabled.status_code == 200, enabled.text
    answers = {}
    for model in ("scripted-text", "no-such-model"):  # the first exists on the server, but not for org
        for path in ("/chat", "/chat/stream"):
            response = await http.post(
                f"{ai(org)}{path}",
                json={"modelId": model, "messages": [{"role": "user", "content": "hi"}]},
                headers=bearer(org.member),
            )
            body = response.json()
            answers[(model, path)] = (response.status_code, body["error"], body.get("field"))
            assert model in body["message"]
    assert len(set(answers.values())) == 1, answers
    assert next(iter(answers.values()))[0] == 404
    embed = {}
    for model in ("scripted-text", "no-such-model"):
        response = await http.post(
            f"{ai(org)}/embeddings", json={"modelId": model, "input": "hi"}, headers=bearer(org.member)
        )
        embed[model] = (response.status_code, response.json()["error"])
    assert embed["scripted-text"] == embed["no-such-model"], embed


async def test_usage_by_token_hides_other_tokens_from_members(http: httpx.AsyncClient, org: Tenant) -> None:
    member = org.member_user()
    for secret, body in (
        (org.service, {"userId": member}),  # a service token acting for the member
        (org.member, {}),
    ):
        answered = await http.post(
            f"{ai(org)}/chat",
            json={"messages": [{"role": "user", "content": "hello"}], **body},
            headers=bearer(secret),
        )
        assert answered.status_code == 200, answered.text
    admin = (
        await http.get(f"{ai(org)}/usage", params={"groupBy": "token"}, headers=bearer(org.admin))
    ).json()
    assert len([key for key in admin["breakdown"] if key]) == 2  # admins see both token ids
    mine = await http.get(f"{ai(org)}/usage", params={"groupBy": "token"}, headers=bearer(org.member))
    assert mine.status_code == 200
    breakdown = mine.json()["breakdown"]
    named = [key for key in breakdown if key]
    assert len(named) == 1 and breakdown[""]["requests"] == 1, breakdown
    service_id = next(key for key in admin["breakdown"] if key not in named)
    assert service_id not in mine.text
    assert mine.json()["totals"]["requests"] == 2
