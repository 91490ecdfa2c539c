"""Waldur chat threads: shape, retrieve and every list filter."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest

from chatkeep.core import chat_sessions
from chatkeep.dialects.waldur.render import THREAD_FIELDS
from chatkeep.dialects.waldur.schemas import ThreadOut
from chatkeep.storage.database import Database
from tests.support import Tenant
from tests.unit.dialects.test_waldur_sessions import HEX, STAMP
from tests.unit.dialects.waldur_world import (
    at,
    hyphenated,
    make_thread,
    make_versioned_thread,
    principal_of,
    token,
    update_thread,
)

URL = "/api/chat-threads/"


async def uuids(client: httpx.AsyncClient, secret: str, params: object = None) -> list[str]:
    response = await client.get(URL, params=params, headers=token(secret))  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return [t["uuid"] for t in response.json()]


async def user_uuid_of(db: Database, secret: str) -> str:
    caller = await principal_of(db, secret)
    return chat_sessions.user_uuid(caller.org_id, caller.user_id).hex


async def test_thread_renders_every_field_and_counts_every_version_as_waldur_does(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    user = tenant.member_user(0)
    versions = await make_versioned_thread(db, tenant.members[user], title="Budget talk")
    response = await client.get(URL, headers=token(tenant.members[user]))
    (thread,) = response.json()
    ThreadOut.model_validate(thread)
    assert set(thread) == THREAD_FIELDS
    session = (await client.get("/api/chat-sessions/current/", headers=token(tenant.members[user]))).json()
    assert thread["uuid"] == versions.thread and HEX.fullmatch(thread["uuid"])
    assert thread["chat_session"] == session["uuid"]
    assert thread["name"] == "Budget talk"
    # Waldur counts every stored message of the thread, superseded versions too (Count("messages")).
    assert thread["message_count"] == 7
    assert (thread["flags"], thread["is_flagged"], thread["max_severity"]) == ({}, False, "none")
    assert thread["is_archived"] is False
    assert thread["user_username"] == thread["user_full_name"] == user
    assert STAMP.fullmatch(thread["created"]) and STAMP.fullmatch(thread["modified"])
    assert (thread["input_tokens"], thread["output_tokens"], thread["models_used"]) == (5, 7, "m-1,m-2")
    assert thread["has_feedback"] is False


async def test_untitled_thread_is_called_new_chat(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    await make_thread(db, tenant.member, texts=())
    (thread,) = (await client.get(URL, headers=token(tenant.member))).json()
    assert thread["name"] == "New chat"
    assert thread["message_count"] == 0


async def test_thread_without_title_is_named_from_its_first_user_message(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    await make_thread(db, tenant.member, texts=("How do I resize a volume?", "Like this."))
    (thread,) = (await client.get(URL, headers=token(tenant.member))).json()
    assert thread["name"] == "How do I resize a volume?"
    assert thread["message_count"] == 2


async def test_retrieve_by_either_uuid_form_with_field_selection(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    tid = await make_thread(db, tenant.member, title="One")
    listed = (await client.get(URL, headers=token(tenant.member))).json()
    for form in (tid, hyphenated(tid)):
        response = await client.get(f"{URL}{form}/", headers=token(tenant.member))
        assert response.status_code == 200
        assert response.json() == listed[0]
    picked = await client.get(
        f"{URL}{tid}/",
        params=[("field", "name"), ("field", "uuid"), ("field", "nope")],
        headers=token(tenant.member),
    )
    assert picked.json() == {"uuid": tid, "name": "One"}
    listed_picked = await client.get(URL, params={"field": "message_count"}, headers=token(tenant.member))
    assert listed_picked.json() == [{"message_count": 2}]


async def test_retrieve_visibility_and_malformed_uuids(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    tid = await make_thread(db, tenant.members[tenant.member_user(0)])
    assert (await client.get(f"{URL}{tid}/", headers=token(tenant.admin))).status_code == 200
    assert (await client.get(f"{URL}{tid}/", headers=token(tenant.service))).status_code == 200
    for secret, raw in (
        (tenant.members[tenant.member_user(1)], tid),
        (tenant.admin, "zzz"),
        (tenant.admin, tid[:-1]),
        (tenant.admin, uuid.uuid4().hex),
    ):
        response = await client.get(f"{URL}{raw}/", headers=token(secret))
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


async def test_expired_threads_are_invisible(client: httpx.AsyncClient, db: Database, tenant: Tenant) -> None:
    live = await make_thread(db, tenant.member)
    expired = await make_thread(db, tenant.member, expires_in=timedelta(seconds=-1))
    assert await uuids(client, tenant.member) == [live]
    assert (await client.get(f"{URL}{expired}/", headers=token(tenant.member))).status_code == 404


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", "archived"), ("TRUE", "archived"), ("1", "archived"), ("false", "active"), ("0", "active")],
)
async def test_is_archived_filter(
    client: httpx.AsyncClient, db: Database, tenant: Tenant, value: str, expected: str
) -> None:
    ids = {"archived": await make_thread(db, tenant.member), "active": await make_thread(db, tenant.member)}
    await update_thread(db, ids["archived"], archived=True)
    assert await uuids(client, tenant.member, {"is_archived": value}) == [ids[expected]]
    # Anything else is not a boolean, so the filter is not applied.
    assert set(await uuids(client, tenant.member, {"is_archived": "maybe"})) == set(ids.values())


async def test_is_flagged_and_max_severity_filters(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    flagged = await make_thread(db, tenant.member)
    clean = await make_thread(db, tenant.member)
    await update_thread(db, flagged, is_flagged=True, max_severity="high")
    assert await uuids(client, tenant.member, {"is_flagged": "true"}) == [flagged]
    assert await uuids(client, tenant.member, {"is_flagged": "false"}) == [clean]
    assert await uuids(client, tenant.member, {"max_severity": "high"}) == [flagged]
    assert await uuids(client, tenant.member, {"max_severity": "none"}) == [clean]
    assert await uuids(client, tenant.member, {"max_severity": "low"}) == []  # exact match, not "at least"
    shown = (await client.get(f"{URL}{flagged}/", headers=token(tenant.member))).json()
    assert shown["flags"] == {"is_flagged": True, "max_severity": "high"}
    bad = await client.get(URL, params={"max_severity": "extreme"}, headers=token(tenant.member))
    assert bad.status_code == 400
    assert bad.json() == {
        "max_severity": ["Select a valid choice. extreme is not one of the available choices."]
    }


async def test_created_and_modified_filters_are_utc_calendar_days(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    late = await make_thread(db, tenant.member)
    early = await make_thread(db, tenant.member)
    await update_thread(db, late, created_at=at("2026-03-02", 23).replace(minute=59, second=59))
    await update_thread(db, early, created_at=at("2026-03-03", 0))
    await update_thread(db, late, updated_at=at("2026-03-10"))
    await update_thread(db, early, updated_at=at("2026-03-11"))
    assert await uuids(client, tenant.member, {"created": "2026-03-02"}) == [late]
    assert await uuids(client, tenant.member, {"created": "2026-03-03"}) == [early]
    assert await uuids(client, tenant.member, {"created": "2026-03-04"}) == []
    assert await uuids(client, tenant.member, {"modified": "2026-03-11"}) == [early]
    assert await uuids(client, tenant.member, {"created_after": "2026-03-03"}) == [early]
    assert await uuids(client, tenant.member, {"created_before": "2026-03-02"}) == [late]
    assert await uuids(
        client, tenant.member, {"modified_after": "2026-03-10", "modified_before": "2026-03-10"}
    ) == [late]
    for bad in ("2026-13-01", "yesterday", "2026-3-2"):
        response = await client.get(URL, params={"created": bad}, headers=token(tenant.member))
        assert response.status_code == 400
        assert response.json() == {"created": ["Enter a valid date."]}


async def test_bad_filters_are_reported_together(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(
        URL,
        params={"modified": "nope", "user": "nope", "o": "name", "scope": "all"},
        headers=token(tenant.admin),
    )
    assert response.status_code == 400
    assert response.json() == {
        "modified": ["Enter a valid date."],
        "user": ["Enter a valid UUID."],
        "o": ["Select a valid choice. name is not one of the available choices."],
        "scope": ["Select a valid choice. all is not one of the available choices."],
    }


async def test_query_searches_names_message_text_and_owner_case_insensitively(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    first, second = tenant.member_user(0), tenant.member_user(1)
    budget = await make_thread(db, tenant.members[first], title="Quarterly Budget")
    iban = await make_thread(db, tenant.members[first], texts=("Where is my IBAN?", "Here."))
    empty = await make_thread(db, tenant.members[first], texts=())
    versions = await make_versioned_thread(db, tenant.members[second], title="Other")
    assert await uuids(client, tenant.admin, {"query": "bUdGeT"}) == [budget]
    assert await uuids(client, tenant.admin, {"query": "iban"}) == [iban]
    # What a thread with no messages yet is called.
    assert await uuids(client, tenant.admin, {"query": "new chat"}) == [empty]
    assert await uuids(client, tenant.admin, {"query": second.upper()}) == [versions.thread]
    assert set(await uuids(client, tenant.admin, {"query": first})) == {budget, iban, empty}
    assert await uuids(client, tenant.admin, {"query": "q2b"}) == [versions.thread]
    assert await uuids(client, tenant.admin, {"query": "%"}) == []  # LIKE wildcards are literal
    assert await uuids(client, tenant.admin, {"query": "no such words"}) == []
    # A member's search never reaches beyond their own threads.
    assert await uuids(client, tenant.members[first], {"query": "other"}) == []


async def test_user_filter_narrows_for_staff_and_never_widens_for_members(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    first, second = tenant.members[tenant.member_user(0)], tenant.members[tenant.member_user(1)]
    mine, theirs = await make_thread(db, first), await make_thread(db, second)
    first_uuid = await user_uuid_of(db, first)
    assert await uuids(client, tenant.admin, {"user": first_uuid}) == [mine]
    assert await uuids(client, tenant.admin, {"user": hyphenated(first_uuid)}) == [mine]
    assert await uuids(client, tenant.admin, {"user": uuid.uuid4().hex}) == []
    assert await uuids(client, second, {"user": first_uuid}) == []
    assert await uuids(client, second, {"user": await user_uuid_of(db, second)}) == [theirs]
    bad = await client.get(URL, params={"user": "123"}, headers=token(tenant.admin))
    assert (bad.status_code, bad.json()) == (400, {"user": ["Enter a valid UUID."]})


async def test_staff_see_all_threads_unless_scope_is_own(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    members = await make_thread(db, tenant.member)
    own = await make_thread(db, tenant.admin)
    assert set(await uuids(client, tenant.admin)) == {members, own}
    assert await uuids(client, tenant.admin, {"scope": "own"}) == [own]
    assert await uuids(client, tenant.member, {"scope": "own"}) == [members]
    assert await uuids(client, tenant.member) == [members]
