"""The audit trail: an entry for every audited action, with who, what, when and from where; listed for
admins only; and entries the database itself refuses to change or delete."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from chatkeep.core import api_tokens as tokens_core
from chatkeep.core import audit
from chatkeep.core.bootstrap import bootstrap
from chatkeep.core.use_cases import api_tokens as token_use
from chatkeep.storage.database import Database
from chatkeep.storage.migrate import migrate
from tests.fakes import ScriptedProvider
from tests.support import Tenant
from tests.unit.dialects.test_quant_chat import ai
from tests.unit.dialects.test_quant_sessions import bearer
from tests.unit.dialects.waldur_world import make_thread, principal_of, token


def trail(tenant: Tenant) -> str:
    return f"/native/v1/organisations/{tenant.name}/audit"


async def entries(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(trail(tenant), params=params, headers=bearer(tenant.admin))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["entries"]
    return found


async def test_config_guard_policy_and_quota_changes_are_filed_apart(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant, db: Database
) -> None:
    admin = await principal_of(db, tenant.admin)
    for change in ({"temperature": 0.5}, {"guard_policy": {}}, {"monthly_token_quota": 5000}):
        response = await scripted_client.put(
            f"{ai(tenant)}/config", json=change, headers={**bearer(tenant.admin), "X-Request-ID": "cfg-1"}
        )
        assert response.status_code == 200, response.text
    found = await entries(scripted_client, tenant)
    assert [e["action"] for e in found] == ["quota.update", "guard_policy.update", "config.update"]
    quota = found[0]
    assert quota["details"] == {"fields": ["monthly_token_quota"], "monthly_token_quota": 5000}
    assert quota["subject"] == f"org:{tenant.name}"
    assert quota["actor"] == {"token_id": str(admin.token_id), "role": "admin", "user": "admin"}
    assert quota["client_address"] == "127.0.0.1" and quota["request_id"] == "cfg-1"
    assert quota["at"].endswith("Z")


async def test_archive_unarchive_and_delete_are_recorded_with_the_acting_token(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant, db: Database
) -> None:
    member = tenant.member
    thread = await make_thread(db, member)
    for verb in ("archive", "unarchive"):
        done = await scripted_client.post(f"/api/chat-threads/{thread}/{verb}/", headers=token(member))
        assert done.status_code == 204, done.text
    deleted = await scripted_client.delete(
        f"{ai(tenant)}/sessions/{uuid.UUID(thread)}", headers=bearer(tenant.service)
    )
    assert deleted.status_code == 200, deleted.text
    found = await entries(scripted_client, tenant)
    assert [(e["action"], e["subject"]) for e in found] == [
        ("conversation.delete", f"conversation:{uuid.UUID(thread)}"),
        ("conversation.unarchive", f"conversation:{uuid.UUID(thread)}"),
        ("conversation.archive", f"conversation:{uuid.UUID(thread)}"),
    ]
    assert [e["actor"]["role"] for e in found] == ["service", "member", "member"]
    assert found[1]["actor"]["token_id"] == str((await principal_of(db, member)).token_id)


async def test_a_refused_change_leaves_no_entry(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    refused = await scripted_client.put(
        f"{ai(tenant)}/config", json={"temperature": 9}, headers=bearer(tenant.admin)
    )
    assert refused.status_code == 400
    forbidden = await scripted_client.put(
        f"{ai(tenant)}/config", json={"temperature": 1}, headers=bearer(tenant.member)
    )
    assert forbidden.status_code == 403
    assert await entries(scripted_client, tenant) == []


async def test_only_admins_of_the_organisation_read_it_and_nobody_changes_it(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant, other_tenant: Tenant
) -> None:
    await scripted_client.put(f"{ai(tenant)}/config", json={"temperature": 0.1}, headers=bearer(tenant.admin))
    for secret in (tenant.member, tenant.service, other_tenant.admin):
        assert (await scripted_client.get(trail(tenant), headers=bearer(secret))).status_code == 403
    assert (await scripted_client.get(trail(tenant))).status_code == 401
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await scripted_client.request(method, trail(tenant), headers=bearer(tenant.admin), json={})
        assert response.status_code == 405, (method, response.status_code)
    assert len(await entries(scripted_client, tenant)) == 1
    other = await scripted_client.get(trail(other_tenant), headers=bearer(other_tenant.admin))
    assert other.json()["entries"] == [], "another organisation's trail is its own"


async def test_pages_continue_with_next(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    for value in (0.1, 0.2, 0.3):
        await scripted_client.put(
            f"{ai(tenant)}/config", json={"temperature": value}, headers=bearer(tenant.admin)
        )
    first = (
        await scripted_client.get(trail(tenant), params={"limit": 2}, headers=bearer(tenant.admin))
    ).json()
    assert len(first["entries"]) == 2 and first["next"]
    rest = await entries(scripted_client, tenant, limit=2, before=first["next"])
    assert len(rest) == 1 and rest[0]["id"] not in {e["id"] for e in first["entries"]}


async def test_the_database_refuses_to_change_or_delete_an_entry(db: Database, tenant: Tenant) -> None:
    admin = await principal_of(db, tenant.admin)
    async with db.write() as session:
        await audit.record(session, principal=admin, action="config.update", subject="org:x")
    for statement in (
        "UPDATE audit_entries SET action = 'forged' WHERE org_id = :org",
        "DELETE FROM audit_entries WHERE org_id = :org",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.write() as session:
                await session.execute(
                    text(statement), {"org": admin.org_id if not db.is_sqlite else admin.org_id.hex}
                )
    async with db.read() as session:
        assert [e.action for e in await audit.get_all(session, org_id=admin.org_id)] == ["config.update"]


async def test_the_first_start_token_is_recorded_as_the_systems(tmp_path: Path) -> None:
    fresh = Database(f"sqlite+aiosqlite:///{tmp_path / 'first.db'}")
    try:
        await migrate(fresh)
        issued = await bootstrap(fresh)
        assert issued is not None
        async with fresh.read() as session:
            [entry] = await audit.get_all(session)
        assert (entry.action, entry.subject, entry.actor_role) == (
            "token.create",
            f"token:{issued.token.id}",
            "system",
        )
        assert entry.details == {"user": "admin", "role": "admin", "name": "bootstrap"}
    finally:
        await fresh.dispose()


async def test_tokens_issued_and_revoked_by_an_admin_are_recorded(
    scripted_client: httpx.AsyncClient, tenant: Tenant, db: Database
) -> None:
    async with db.read() as session:
        admin = await tokens_core.authenticate(session, secret=tenant.admin)
    issued = await token_use.create(db, admin, user_id="new-user", role="member", name="laptop")
    await token_use.revoke(db, admin, issued.token.id)
    found = await entries(scripted_client, tenant)
    assert [(e["action"], e["subject"]) for e in found[:2]] == [
        ("token.revoke", f"token:{issued.token.id}"),
        ("token.create", f"token:{issued.token.id}"),
    ]
    assert found[1]["details"] == {"user": "new-user", "role": "member", "name": "laptop"}
    assert found[0]["actor"]["role"] == "admin" and issued.secret not in str(found)
