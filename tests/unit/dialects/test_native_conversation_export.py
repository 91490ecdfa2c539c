"""GET /native/v1/organisations/{org}/conversations/{id}/export as JSON and Markdown, scoped by
tenant and user exactly as the Quant session GET is."""

from __future__ import annotations

import uuid

import httpx

from tests.fakes import ScriptedProvider
from tests.support import Tenant
from tests.unit.dialects.test_quant_chat import ai, chat
from tests.unit.dialects.test_quant_sessions import bearer


def export_path(tenant: Tenant, conversation_id: str) -> str:
    return f"/native/v1/organisations/{tenant.name}/conversations/{conversation_id}/export"


async def conversation_with_a_regeneration(client: httpx.AsyncClient, tenant: Tenant) -> str:
    """A member's session: one question, answered twice (a regeneration), as the Quant dialect does it."""
    user = tenant.member_user(0)
    created = await client.post(
        f"{ai(tenant)}/sessions", json={"userId": user}, headers=bearer(tenant.service)
    )
    sid = str(created.json()["sessionId"])
    await chat(client, tenant, sessionId=sid, messages=[{"role": "user", "content": "first question"}])
    await chat(client, tenant, sessionId=sid, messages=[{"role": "user", "content": "second question"}])
    return sid


async def test_json_export_holds_every_version_with_tree_links_and_usage(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    sid = await conversation_with_a_regeneration(scripted_client, tenant)
    response = await scripted_client.get(export_path(tenant, sid), headers=bearer(tenant.member))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["conversation"]["id"] == sid
    messages = body["messages"]
    assert [m["content"] for m in messages] == [
        "first question",
        "Hello, world.",
        "second question",
        "Hello, world.",
    ]
    ids = [m["id"] for m in messages]
    assert [m["parent_id"] for m in messages] == [None, *ids[:-1]]
    assert body["active_path"] == ids
    assert {"is_flagged", "severity", "pii_categories", "injection_categories", "action_taken"} <= set(
        messages[0]
    )
    assert len(body["usage"]) == 2 and {u["conversation_id"] for u in body["usage"]} == {sid}


async def test_markdown_export_shows_the_visible_history(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    sid = await conversation_with_a_regeneration(scripted_client, tenant)
    response = await scripted_client.get(
        export_path(tenant, sid), params={"format": "markdown"}, headers=bearer(tenant.service)
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    text = response.text
    assert text.startswith("# first question")
    assert text.index("## user\n\nfirst question") < text.index("## assistant\n\nHello, world.")
    assert "second question" in text and "4 shown, 4 stored" in text


async def test_other_users_and_other_tenants_get_404_or_403(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant, other_tenant: Tenant
) -> None:
    sid = await conversation_with_a_regeneration(scripted_client, tenant)
    other_member = list(tenant.members.values())[1]
    assert (
        await scripted_client.get(export_path(tenant, sid), headers=bearer(other_member))
    ).status_code == 404
    # Another organisation's token, with or without its own organisation in the path.
    assert (
        await scripted_client.get(export_path(tenant, sid), headers=bearer(other_tenant.admin))
    ).status_code == 403
    theirs = await scripted_client.get(export_path(other_tenant, sid), headers=bearer(other_tenant.admin))
    assert theirs.status_code == 404
    assert (await scripted_client.get(export_path(tenant, sid))).status_code == 401
    missing = await scripted_client.get(export_path(tenant, str(uuid.uuid4())), headers=bearer(tenant.admin))
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    bad = await scripted_client.get(
        export_path(tenant, sid), params={"format": "pdf"}, headers=bearer(tenant.admin)
    )
    assert bad.status_code == 400 and bad.json()["field"] == "format"
