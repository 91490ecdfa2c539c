"""Waldur chat sessions over the in-process app: current (get-or-create), list and retrieve."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
from sqlalchemy import func, select

from chatkeep.core import chat_sessions
from chatkeep.storage.database import Database
from chatkeep.storage.models import ChatSession
from tests.support import Tenant
from tests.unit.dialects.waldur_world import hyphenated, make_thread, principal_of, token

HEX = re.compile(r"[0-9a-f]{32}")
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
SESSION_KEYS = {"uuid", "user", "user_username", "user_full_name", "created", "modified"}


async def current(client: httpx.AsyncClient, secret: str) -> dict:
    response = await client.get("/api/chat-sessions/current/", headers=token(secret))
    assert response.status_code == 200, response.text
    return response.json()


async def test_current_creates_once_and_renders_the_waldur_shape(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    user = tenant.member_user(0)
    first = await current(client, tenant.members[user])
    again = await current(client, tenant.members[user])
    assert first == again
    assert set(first) == SESSION_KEYS
    assert HEX.fullmatch(first["uuid"]) and HEX.fullmatch(first["user"])
    assert STAMP.fullmatch(first["created"]) and STAMP.fullmatch(first["modified"])
    assert first["user_username"] == first["user_full_name"] == user
    caller = await principal_of(db, tenant.members[user])
    assert first["uuid"] == chat_sessions.session_id(caller.org_id, user).hex
    assert first["user"] == chat_sessions.user_uuid(caller.org_id, user).hex


async def test_current_ignores_field_selection(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(
        "/api/chat-sessions/current/", params={"field": "uuid"}, headers=token(tenant.member)
    )
    assert set(response.json()) == SESSION_KEYS


async def test_concurrent_first_calls_all_succeed_with_one_row(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    secret = tenant.members[tenant.member_user(1)]
    responses = await asyncio.gather(
        *(client.get("/api/chat-sessions/current/", headers=token(secret)) for _ in range(8))
    )
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["uuid"] for r in responses}) == 1
    caller = await principal_of(db, secret)
    async with db.read() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ChatSession)
            .where(ChatSession.org_id == caller.org_id, ChatSession.user_id == caller.user_id)
        )
    assert count == 1


async def test_user_uuid_differs_per_organisation_for_the_same_user_id(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    # Both tenants have an "admin" user id; their sessions and user UUIDs must not coincide.
    mine, theirs = await current(client, tenant.admin), await current(client, other_tenant.admin)
    assert mine["user_username"] == theirs["user_username"] == "admin"
    assert mine["uuid"] != theirs["uuid"] and mine["user"] != theirs["user"]


async def test_member_lists_only_their_own_session_and_admin_lists_the_organisations(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    owner, other = tenant.member_user(0), tenant.member_user(1)
    mine = await current(client, tenant.members[owner])
    theirs = await current(client, tenant.members[other])
    member_view = await client.get("/api/chat-sessions/", headers=token(tenant.members[owner]))
    assert member_view.status_code == 200
    assert member_view.json() == [mine]
    assert member_view.headers["x-result-count"] == "1"
    admin_view = await client.get("/api/chat-sessions/", headers=token(tenant.admin))
    uuids = [s["uuid"] for s in admin_view.json()]
    assert uuids == [theirs["uuid"], mine["uuid"]]  # newest first
    assert admin_view.headers["x-result-count"] == "2"


async def test_session_list_supports_field_selection_and_pages(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for secret in tenant.members.values():
        await current(client, secret)
    response = await client.get(
        "/api/chat-sessions/",
        params=[("field", "uuid"), ("field", "user"), ("field", "bogus"), ("page_size", "1"), ("page", "2")],
        headers=token(tenant.service),
    )
    assert response.status_code == 200
    (item,) = response.json()
    assert set(item) == {"uuid", "user"}
    assert response.headers["x-result-count"] == "2"
    assert 'rel="prev"' in response.headers["link"] and 'rel="next"' not in response.headers["link"]


async def test_conversations_created_elsewhere_give_their_owner_a_session(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    user = tenant.member_user(0)
    await make_thread(db, tenant.members[user])  # as the Quant dialect or a turn would
    listed = (await client.get("/api/chat-sessions/", headers=token(tenant.admin))).json()
    assert [s["user_username"] for s in listed] == [user]


async def test_retrieve_by_hex_or_hyphenated_uuid_with_field_selection(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    mine = await current(client, tenant.member)
    for form in (mine["uuid"], hyphenated(mine["uuid"]), mine["uuid"].upper()):
        response = await client.get(f"/api/chat-sessions/{form}/", headers=token(tenant.member))
        assert response.status_code == 200
        assert response.json() == mine
    picked = await client.get(
        f"/api/chat-sessions/{mine['uuid']}/", params={"field": "user_username"}, headers=token(tenant.member)
    )
    assert picked.json() == {"user_username": mine["user_username"]}


async def test_admin_retrieves_a_members_session_but_another_member_gets_404(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    mine = await current(client, tenant.members[tenant.member_user(0)])
    url = f"/api/chat-sessions/{mine['uuid']}/"
    assert (await client.get(url, headers=token(tenant.admin))).json() == mine
    denied = await client.get(url, headers=token(tenant.members[tenant.member_user(1)]))
    assert denied.status_code == 404
    assert denied.json() == {"detail": "Not found."}


async def test_malformed_and_unknown_session_uuids_are_404(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for raw in ("not-a-uuid", "1234", uuid.uuid4().hex, "g" * 32):
        response = await client.get(f"/api/chat-sessions/{raw}/", headers=token(tenant.admin))
        assert response.status_code == 404, raw
        assert response.json() == {"detail": "Not found."}
