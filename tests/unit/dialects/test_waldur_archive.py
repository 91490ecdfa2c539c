"""Archive and unarchive: 204 with no body, idempotent, and only for the thread's owner."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx

from chatkeep.storage.database import Database
from tests.support import Tenant
from tests.unit.dialects.waldur_world import hyphenated, make_thread, make_versioned_thread, token

URL = "/api/chat-threads/"


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def thread_of(client: httpx.AsyncClient, secret: str, tid: str) -> dict:
    response = await client.get(f"{URL}{tid}/", headers=token(secret))
    assert response.status_code == 200
    return response.json()


async def test_owner_archives_and_unarchives_idempotently(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    tid = await make_thread(db, tenant.member, title="Keep me")
    before = await thread_of(client, tenant.member, tid)
    archived = await client.post(f"{URL}{tid}/archive/", headers=token(tenant.member))
    assert archived.status_code == 204 and archived.content == b""
    after = await thread_of(client, tenant.member, tid)
    assert after["is_archived"] is True
    assert parse(after["modified"]) > parse(before["modified"])  # so `o=-modified` sees the change
    assert {k: v for k, v in after.items() if k not in ("is_archived", "modified")} == {
        k: v for k, v in before.items() if k not in ("is_archived", "modified")
    }
    again = await client.post(f"{URL}{tid}/archive/", headers=token(tenant.member))
    assert again.status_code == 204
    assert await thread_of(client, tenant.member, tid) == after  # a repeat changes nothing, not even modified
    for _ in range(2):
        restored = await client.post(f"{URL}{tid}/unarchive/", headers=token(tenant.member))
        assert restored.status_code == 204 and restored.content == b""
        assert (await thread_of(client, tenant.member, tid))["is_archived"] is False


async def test_a_request_body_is_ignored(client: httpx.AsyncClient, db: Database, tenant: Tenant) -> None:
    tid = await make_thread(db, tenant.member, title="Original")
    response = await client.post(
        f"{URL}{hyphenated(tid)}/archive/",
        json={"name": "Renamed", "is_archived": False},
        headers=token(tenant.member),
    )
    assert response.status_code == 204
    thread = await thread_of(client, tenant.member, tid)
    assert (thread["name"], thread["is_archived"]) == ("Original", True)


async def test_archived_threads_keep_their_messages(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    versions = await make_versioned_thread(db, tenant.member)
    await client.post(f"{URL}{versions.thread}/archive/", headers=token(tenant.member))
    messages = await client.get(
        "/api/chat-messages/", params={"thread": versions.thread}, headers=token(tenant.member)
    )
    assert [m["uuid"] for m in messages.json()] == versions.active


async def test_staff_cannot_archive_someone_elses_thread(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    tid = await make_thread(db, tenant.member)
    before = await thread_of(client, tenant.member, tid)
    for secret in (tenant.admin, tenant.service):
        for action in ("archive", "unarchive"):
            response = await client.post(f"{URL}{tid}/{action}/", headers=token(secret))
            assert response.status_code == 403
            assert set(response.json()) == {"detail"}
    assert await thread_of(client, tenant.member, tid) == before


async def test_staff_archive_their_own_thread(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    tid = await make_thread(db, tenant.admin)
    assert (await client.post(f"{URL}{tid}/archive/", headers=token(tenant.admin))).status_code == 204
    assert (await thread_of(client, tenant.admin, tid))["is_archived"] is True


async def test_members_get_404_for_threads_they_cannot_see(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    tid = await make_thread(db, tenant.members[tenant.member_user(0)])
    intruder = tenant.members[tenant.member_user(1)]
    before = await thread_of(client, tenant.admin, tid)
    for raw in (tid, "not-a-uuid", uuid.uuid4().hex):
        response = await client.post(f"{URL}{raw}/archive/", headers=token(intruder))
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    assert await thread_of(client, tenant.admin, tid) == before


async def test_archive_is_post_only(client: httpx.AsyncClient, db: Database, tenant: Tenant) -> None:
    tid = await make_thread(db, tenant.member)
    response = await client.get(f"{URL}{tid}/archive/", headers=token(tenant.member))
    assert response.status_code == 405
    assert "detail" in response.json()
