"""Isolation on every Waldur endpoint: outsiders and bad credentials get nothing and change nothing."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from chatkeep.core import api_tokens, organisations
from chatkeep.core.principals import Role
from chatkeep.storage.database import Database
from chatkeep.storage.models import ChatSession
from tests.support import Tenant
from tests.unit.dialects.waldur_world import make_versioned_thread, principal_of, token

SECRET_TEXT = "Q2b"  # a message of the victim's thread (see waldur_world.Versioned)

# (method, path template, is a detail endpoint)
ENDPOINTS = [
    ("GET", "/api/chat-sessions/current/", False),
    ("GET", "/api/chat-sessions/", False),
    ("GET", "/api/chat-sessions/{session}/", True),
    ("GET", "/api/chat-threads/", False),
    ("GET", "/api/chat-threads/{thread}/", True),
    ("POST", "/api/chat-threads/{thread}/archive/", True),
    ("POST", "/api/chat-threads/{thread}/unarchive/", True),
    ("GET", "/api/chat-messages/", False),
    ("GET", "/api/chat-messages/?thread={thread}&include_history=true", False),
]


@dataclass
class Victim:
    session: str
    thread: str
    message_ids: list[str]
    snapshot: dict

    def url(self, template: str) -> str:
        return template.format(session=self.session, thread=self.thread)

    def leaked_into(self, text: str) -> bool:
        return any(marker in text for marker in (self.session, self.thread, SECRET_TEXT, *self.message_ids))


async def snapshot(client: httpx.AsyncClient, tenant: Tenant, thread: str, session: str) -> dict:
    """The victim's data as their organisation's admin sees it."""
    admin = token(tenant.admin)
    return {
        "thread": (await client.get(f"/api/chat-threads/{thread}/", headers=admin)).json(),
        "messages": (
            await client.get(
                "/api/chat-messages/", params={"thread": thread, "include_history": "1"}, headers=admin
            )
        ).json(),
        "session": (await client.get(f"/api/chat-sessions/{session}/", headers=admin)).json(),
    }


@pytest.fixture
async def victim(client: httpx.AsyncClient, db: Database, tenant: Tenant) -> Victim:
    owner = tenant.members[tenant.member_user(0)]
    versions = await make_versioned_thread(db, owner, title="victim-title")
    session = (await client.get("/api/chat-sessions/current/", headers=token(owner))).json()["uuid"]
    state = await snapshot(client, tenant, versions.thread, session)
    return Victim(session, versions.thread, list(versions.ids.values()), state)


async def assert_unchanged(client: httpx.AsyncClient, tenant: Tenant, victim: Victim) -> None:
    assert await snapshot(client, tenant, victim.thread, victim.session) == victim.snapshot


@pytest.mark.parametrize(("method", "path", "detail"), ENDPOINTS)
async def test_another_organisation_sees_and_changes_nothing(
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    victim: Victim,
    method: str,
    path: str,
    detail: bool,
) -> None:
    for secret in (other_tenant.admin, other_tenant.service, other_tenant.member):
        response = await client.request(method, victim.url(path), headers=token(secret))
        assert response.status_code == (404 if detail else 200), response.text
        assert not victim.leaked_into(response.text)
    await assert_unchanged(client, tenant, victim)


@pytest.mark.parametrize(("method", "path", "detail"), ENDPOINTS)
async def test_another_member_of_the_organisation_sees_and_changes_nothing(
    client: httpx.AsyncClient, tenant: Tenant, victim: Victim, method: str, path: str, detail: bool
) -> None:
    intruder = tenant.members[tenant.member_user(1)]
    response = await client.request(method, victim.url(path), headers=token(intruder))
    assert response.status_code == (404 if detail else 200), response.text
    assert not victim.leaked_into(response.text)
    await assert_unchanged(client, tenant, victim)


BAD_HEADERS = [
    ({}, "Authentication credentials were not provided."),
    ({"Authorization": "Bearer {valid}"}, "Authentication credentials were not provided."),
    ({"Authorization": "Token"}, "Invalid token header. No credentials provided."),
    ({"Authorization": "Token a b"}, "Invalid token header. Token string should not contain spaces."),
    ({"Authorization": "Token ck_wrong"}, "Invalid token."),
    ({"Authorization": "Token " + "x" * 5000}, "Invalid token."),
]


@pytest.mark.parametrize(("method", "path", "detail"), ENDPOINTS)
@pytest.mark.parametrize(("headers", "message"), BAD_HEADERS)
async def test_missing_or_malformed_credentials_get_a_drf_401(
    client: httpx.AsyncClient,
    tenant: Tenant,
    victim: Victim,
    method: str,
    path: str,
    detail: bool,
    headers: dict[str, str],
    message: str,
) -> None:
    sent = {k: v.format(valid=tenant.members[tenant.member_user(0)]) for k, v in headers.items()}
    response = await client.request(method, victim.url(path), headers=sent)
    assert response.status_code == 401
    assert response.json() == {"detail": message}
    assert response.headers["www-authenticate"] == "Token"
    assert not victim.leaked_into(response.text)
    await assert_unchanged(client, tenant, victim)


@pytest.mark.parametrize(("method", "path", "detail"), ENDPOINTS)
async def test_a_revoked_token_gets_401_and_creates_nothing(
    client: httpx.AsyncClient,
    db: Database,
    tenant: Tenant,
    victim: Victim,
    method: str,
    path: str,
    detail: bool,
) -> None:
    owner = await principal_of(db, tenant.members[tenant.member_user(0)])
    async with db.write() as session:
        org = await organisations.get_by_name_or_raise(session, name=tenant.name)
        # A second token for the victim's own user, revoked: it must open nothing.
        issued = await api_tokens.create(session, org=org, user_id=owner.user_id, role=Role.MEMBER)
        newcomer = await api_tokens.create(session, org=org, user_id="newcomer", role=Role.ADMIN)
        await api_tokens.revoke(session, token_id=issued.token.id)
        await api_tokens.revoke(session, token_id=newcomer.token.id)
    for secret in (issued.secret, newcomer.secret):
        response = await client.request(method, victim.url(path), headers=token(secret))
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid token."}
        assert not victim.leaked_into(response.text)
    async with db.read() as session:
        created = await session.scalar(
            select(func.count()).select_from(ChatSession).where(ChatSession.user_id == "newcomer")
        )
    assert created == 0
    await assert_unchanged(client, tenant, victim)
