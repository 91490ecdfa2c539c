"""Waldur chat messages: versions (`replaces`, `include_history`), filters and the superset shape."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest

from chatkeep.core import conversations
from chatkeep.core.conversations import NewMessage
from chatkeep.dialects.waldur.render import DETECTION_FIELDS
from chatkeep.dialects.waldur.schemas import MessageOut
from chatkeep.storage.database import Database
from tests.support import Tenant
from tests.unit.dialects.test_waldur_sessions import HEX, STAMP
from tests.unit.dialects.waldur_world import (
    hyphenated,
    make_thread,
    make_versioned_thread,
    principal_of,
    token,
    update_message,
)

URL = "/api/chat-messages/"


async def listed(client: httpx.AsyncClient, secret: str, **params: str) -> list[dict]:
    response = await client.get(URL, params=params, headers=token(secret))
    assert response.status_code == 200, response.text
    body = response.json()
    for item in body:
        MessageOut.model_validate(item)
    return body


async def test_default_shows_the_visible_history_with_replaces(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    v = await make_versioned_thread(db, tenant.member)
    body = await listed(client, tenant.member, thread=v.thread)
    assert [m["uuid"] for m in body] == v.active
    assert [m["content"] for m in body] == ["Q1", "A1b", "Q2b", "A2b"]
    assert [m["sequence_index"] for m in body] == [1, 2, 3, 4]
    # A1b regenerated A1; Q2b edited Q2; A2b, the first answer to Q2b, supersedes A2 (as in Waldur).
    assert [m["replaces"] for m in body] == [None, v.ids["A1"], v.ids["Q2"], v.ids["A2"]]


@pytest.mark.parametrize("value", ["true", "True", "1"])
async def test_include_history_adds_superseded_versions_in_sequence_then_creation_order(
    client: httpx.AsyncClient, db: Database, tenant: Tenant, value: str
) -> None:
    v = await make_versioned_thread(db, tenant.member)
    body = await listed(client, tenant.member, thread=v.thread, include_history=value)
    assert [m["content"] for m in body] == ["Q1", "A1", "A1b", "Q2", "Q2b", "A2", "A2b"]
    replaces = {m["content"]: m["replaces"] for m in body}
    assert replaces == {
        "Q1": None,
        "A1": None,
        "A1b": v.ids["A1"],
        "Q2": None,
        "Q2b": v.ids["Q2"],
        "A2": None,
        "A2b": v.ids["A2"],
    }


@pytest.mark.parametrize("value", ["false", "0", "", "maybe"])
async def test_history_stays_hidden_unless_include_history_is_true(
    client: httpx.AsyncClient, db: Database, tenant: Tenant, value: str
) -> None:
    v = await make_versioned_thread(db, tenant.member)
    body = await listed(client, tenant.member, thread=v.thread, include_history=value)
    assert [m["uuid"] for m in body] == v.active


async def test_message_shape_is_the_superset_of_both_waldur_generations(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    v = await make_versioned_thread(db, tenant.member)
    first, second = (await listed(client, tenant.member, thread=v.thread))[:2]
    assert HEX.fullmatch(first["uuid"]) and first["thread"] == v.thread
    assert STAMP.fullmatch(first["created"])
    assert first["role"] == "user" and second["role"] == "assistant"
    assert first["blocks"] == [{"id": "blk_0", "key": "markdown", "status": "complete", "content": "Q1"}]
    assert first["warning"] == ""
    assert (second["input_tokens"], second["output_tokens"], second["model"]) == (5, 7, "m-1")
    assert first["input_tokens"] is None
    feedback = ("feedback_score", "feedback_comment", "feedback_category", "feedback_submitted_at")
    assert all(first[key] is None for key in feedback)


async def test_thread_filter_accepts_both_uuid_forms_and_without_it_every_thread_counts(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    one = await make_thread(db, tenant.member, texts=("one",))
    two = await make_thread(db, tenant.member, texts=("two", "deux"))
    assert [m["content"] for m in await listed(client, tenant.member, thread=hyphenated(two))] == [
        "two",
        "deux",
    ]
    everything = await listed(client, tenant.member)
    assert {m["thread"] for m in everything} == {one, two}
    assert [m["sequence_index"] for m in everything] == [1, 1, 2]  # interleaved by sequence index


async def test_bad_and_invisible_thread_filters(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    tid = await make_thread(db, tenant.members[tenant.member_user(0)])
    bad = await client.get(URL, params={"thread": "nope"}, headers=token(tenant.admin))
    assert (bad.status_code, bad.json()) == (400, {"thread": ["Enter a valid UUID."]})
    assert await listed(client, tenant.admin, thread=uuid.uuid4().hex) == []
    assert await listed(client, tenant.members[tenant.member_user(1)], thread=tid) == []
    assert len(await listed(client, tenant.admin, thread=tid)) == 2


async def test_detection_fields_are_for_staff_only_and_categories_are_objects(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    v = await make_versioned_thread(db, tenant.member)
    await update_message(
        db,
        v.ids["Q2b"],
        is_flagged=True,
        severity="high",
        injection_categories={"instruction_override": "high"},
        pii_categories={"pii_email": "medium"},
        action_taken="flag",
    )
    staff = {m["content"]: m for m in await listed(client, tenant.admin, thread=v.thread)}
    assert {k: staff["Q2b"][k] for k in DETECTION_FIELDS} == {
        "is_flagged": True,
        "severity": "high",
        "injection_categories": {"instruction_override": "high"},
        "pii_categories": {"pii_email": "medium"},
        "action_taken": "flag",
    }
    assert staff["Q1"]["injection_categories"] == {} and staff["Q1"]["action_taken"] == "allow"
    for message in await listed(client, tenant.member, thread=v.thread):
        assert not set(DETECTION_FIELDS) & set(message)


async def test_legacy_category_lists_and_unknown_actions_render_as_waldur_accepts(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    v = await make_versioned_thread(db, tenant.member)
    await update_message(
        db,
        v.ids["Q1"],
        severity="medium",
        injection_categories=["jailbreak", "jailbreak"],
        action_taken="none",
    )
    (q1,) = [m for m in await listed(client, tenant.service, thread=v.thread) if m["content"] == "Q1"]
    assert q1["injection_categories"] == {"jailbreak": "medium"}
    assert q1["action_taken"] == "allow"


@pytest.mark.parametrize(("value", "expected"), [("true", ["Q2b"]), ("false", ["Q1", "A1b", "A2b"])])
async def test_is_flagged_filter_applies_to_members_and_staff(
    client: httpx.AsyncClient, db: Database, tenant: Tenant, value: str, expected: list[str]
) -> None:
    v = await make_versioned_thread(db, tenant.member)
    await update_message(db, v.ids["Q2b"], is_flagged=True, severity="low")
    await update_message(db, v.ids["Q2"], is_flagged=True, severity="low")  # superseded: hidden by default
    for secret in (tenant.member, tenant.admin):
        assert [
            m["content"] for m in await listed(client, secret, thread=v.thread, is_flagged=value)
        ] == expected
    with_history = await listed(
        client, tenant.admin, thread=v.thread, is_flagged="true", include_history="true"
    )
    assert [m["content"] for m in with_history] == ["Q2", "Q2b"]


async def test_system_and_tool_rows_are_left_out(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    owner = await principal_of(db, tenant.member)
    async with db.write() as session:
        conv = await conversations.create(
            session,
            principal=owner,
            initial_messages=[
                NewMessage("system", "Be terse."),
                NewMessage("user", "Weather?"),
                NewMessage("tool", "sunny"),
                NewMessage("assistant", "Sunny."),
            ],
        )
        tid = conv.id.hex
    body = await listed(client, tenant.member, thread=tid, include_history="true")
    assert [(m["role"], m["sequence_index"]) for m in body] == [("user", 2), ("assistant", 4)]


async def test_expired_threads_contribute_no_messages(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    tid = await make_thread(db, tenant.member, expires_in=timedelta(seconds=-1))
    assert await listed(client, tenant.member, thread=tid) == []
    assert await listed(client, tenant.admin) == []


async def test_a_feedback_filter_matches_nothing_because_no_feedback_is_stored(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    tid = await make_thread(db, tenant.member)
    assert await listed(client, tenant.member, thread=tid, feedback_score="true") == []
    assert len(await listed(client, tenant.member, thread=tid, feedback_score="whatever")) == 2
