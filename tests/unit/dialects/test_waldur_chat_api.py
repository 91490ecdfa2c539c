"""The rest of Waldur's chat API through the official client (8.1.3): message feedback, thread stats,
token-total filters and ordering, per-user token quotas, system prompts and thread cancel."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from waldur_api_client.api.chat_messages import chat_messages_feedback, chat_messages_list
from waldur_api_client.api.chat_quota import chat_quota_set_quota, chat_quota_usage_retrieve
from waldur_api_client.api.chat_sessions import chat_sessions_current_retrieve
from waldur_api_client.api.chat_system_prompts import (
    chat_system_prompts_activate,
    chat_system_prompts_count,
    chat_system_prompts_create,
    chat_system_prompts_deactivate,
    chat_system_prompts_destroy,
    chat_system_prompts_list,
    chat_system_prompts_partial_update,
    chat_system_prompts_retrieve,
    chat_system_prompts_update,
)
from waldur_api_client.api.chat_threads import (
    chat_threads_cancel,
    chat_threads_list,
    chat_threads_retrieve,
    chat_threads_stats_retrieve,
)
from waldur_api_client.errors import UnexpectedStatus
from waldur_api_client.models import (
    ChatThreadStatsResponse,
    FeedbackCategoryEnum,
    Message,
    MessageFeedbackRequest,
    PatchedSystemPromptRequest,
    SetTokenQuotaRequest,
    SystemPrompt,
    SystemPromptRequest,
    ThreadSessionOEnum,
    ThreadSessionRequest,
    TokenQuotaUsageResponse,
)

from chatkeep.storage.database import Database
from chatkeep.storage.models import Message as MessageRow
from tests.fakes import Script, ScriptedProvider
from tests.reliability.wire import eventually
from tests.support import Tenant
from tests.unit.dialects.waldur_client import official, stream_turn
from tests.unit.dialects.waldur_world import make_thread, update_thread


async def _turn(
    http: httpx.AsyncClient, secret: str, text: str = "Question", **body: object
) -> dict[str, str]:
    response, records = await stream_turn(http, secret, input=text, **body)
    assert response.status_code == 200, response.text
    final = records[-1]["m"]
    return {"thread": records[0]["m"]["thread_uuid"], **final}


async def _status(call: object) -> int:
    with pytest.raises(UnexpectedStatus) as raised:
        await call  # type: ignore[misc]
    return raised.value.status_code


# ---- feedback ----------------------------------------------------------------------------------------


async def test_feedback_is_stored_rendered_and_filtered(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    turn = await _turn(scripted_client, tenant.member)
    owner = official(scripted_client, tenant.member)
    answer = uuid.UUID(turn["assistant_message_uuid"])

    down = MessageFeedbackRequest(score=False, comment="Wrong year", category=FeedbackCategoryEnum.INACCURATE)
    rated = await chat_messages_feedback.asyncio(answer, client=owner, body=down)
    assert isinstance(rated, Message) and rated.uuid == answer
    assert (rated.feedback_score, rated.feedback_comment) == (False, "Wrong year")
    assert rated.feedback_category == FeedbackCategoryEnum.INACCURATE and rated.feedback_submitted_at

    # Changing one's mind: a thumbs-up drops the category (only a thumbs-down carries one).
    up = MessageFeedbackRequest(score=True, category=FeedbackCategoryEnum.OTHER)
    rated = await chat_messages_feedback.asyncio(answer, client=owner, body=up)
    assert (rated.feedback_score, rated.feedback_category) == (True, None)

    thread = uuid.UUID(turn["thread"])
    liked = await chat_messages_list.asyncio(client=owner, thread=thread, feedback_score=True)
    assert [m.uuid for m in liked] == [answer]
    assert await chat_messages_list.asyncio(client=owner, thread=thread, feedback_score=False) == []
    assert (await chat_threads_retrieve.asyncio(thread, client=owner)).has_feedback is True
    rated_threads = await chat_threads_list.asyncio(client=owner, has_feedback=True)
    assert [t.uuid for t in rated_threads] == [thread]
    await _turn(scripted_client, tenant.member, "Another thread")
    unrated = await chat_threads_list.asyncio(client=owner, has_feedback=False)
    assert thread not in {t.uuid for t in unrated} and len(unrated) == 1


async def test_feedback_only_on_answers_and_only_by_the_threads_owner(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    turn = await _turn(scripted_client, tenant.member)
    body = MessageFeedbackRequest(score=True)
    question = uuid.UUID(turn["user_message_uuid"])
    answer = uuid.UUID(turn["assistant_message_uuid"])
    owner = official(scripted_client, tenant.member)
    with pytest.raises(UnexpectedStatus) as refused:
        await chat_messages_feedback.asyncio_detailed(question, client=owner, body=body)
    assert refused.value.status_code == 400
    assert b"Feedback can only be given on assistant messages." in refused.value.content
    # Staff can read the thread, but not rate it in its owner's name; nor can another member.
    for stranger in (tenant.admin, tenant.members[tenant.member_user(1)]):
        client = official(scripted_client, stranger)
        assert await _status(chat_messages_feedback.asyncio(answer, client=client, body=body)) == 404
    bad = await scripted_client.post(
        f"/api/chat-messages/{answer.hex}/feedback/",
        json={"score": False, "category": "rude"},
        headers={"Authorization": f"Token {tenant.member}"},
    )
    assert bad.status_code == 400 and "category" in bad.json()


# ---- stats and token filters -------------------------------------------------------------------------


async def test_thread_stats_total_the_visible_filtered_threads(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    first = await _turn(scripted_client, tenant.member)
    await _turn(scripted_client, tenant.member, "Follow-up", thread_uuid=first["thread"])
    other = tenant.members[tenant.member_user(1)]
    await _turn(scripted_client, other, "Theirs")
    owner = official(scripted_client, tenant.member)
    await chat_messages_feedback.asyncio(
        uuid.UUID(first["assistant_message_uuid"]), client=owner, body=MessageFeedbackRequest(score=False)
    )

    mine = await chat_threads_stats_retrieve.asyncio(client=owner)
    assert isinstance(mine, ChatThreadStatsResponse)
    assert (mine.threads_total, mine.sessions_total, mine.users_total, mine.messages_total) == (1, 1, 1, 4)
    # Each scripted turn reports 11 input and 3 output tokens.
    assert (mine.input_tokens_total, mine.output_tokens_total, mine.total_tokens) == (22, 6, 28)
    assert (mine.feedback_positive, mine.feedback_negative, mine.satisfaction_rate) == (0, 1, 0.0)
    assert mine.flagged_total == 0

    staff = await chat_threads_stats_retrieve.asyncio(client=official(scripted_client, tenant.admin))
    assert (staff.threads_total, staff.users_total, staff.messages_total, staff.total_tokens) == (2, 2, 6, 42)
    only_big = await chat_threads_stats_retrieve.asyncio(
        client=official(scripted_client, tenant.admin), total_tokens_min=20
    )
    assert only_big.threads_total == 1 and only_big.satisfaction_rate == 0.0
    nothing = await chat_threads_stats_retrieve.asyncio(client=owner, is_archived=True)
    assert (nothing.threads_total, nothing.satisfaction_rate) == (0, None)


async def test_threads_filter_and_order_by_total_tokens(
    client: httpx.AsyncClient, db: Database, tenant: Tenant
) -> None:
    sizes = {await make_thread(db, tenant.member, texts=()): n for n in (5, 500, 50)}
    for thread, n in sizes.items():
        await update_thread(db, thread, total_tokens=n)
    owner = official(client, tenant.member)
    ascending = await chat_threads_list.asyncio(client=owner, o=[ThreadSessionOEnum.TOTAL_TOKENS])
    assert [t.total_tokens for t in ascending] == [5, 50, 500]
    descending = await chat_threads_list.asyncio(client=owner, o=[ThreadSessionOEnum.VALUE_5])
    assert [t.total_tokens for t in descending] == [500, 50, 5]
    middle = await chat_threads_list.asyncio(client=owner, total_tokens_min=6, total_tokens_max=500)
    assert sorted(t.total_tokens for t in middle) == [50, 500]
    assert [t.total_tokens for t in await chat_threads_list.asyncio(client=owner, total_tokens_max=5)] == [5]
    bad = await client.get(
        "/api/chat-threads/",
        params={"total_tokens_min": "lots"},
        headers={"Authorization": f"Token {tenant.member}"},
    )
    assert bad.status_code == 400 and bad.json() == {"total_tokens_min": ["Enter a number."]}


# ---- quotas ------------------------------------------------------------------------------------------


async def test_quota_usage_and_set_quota_follow_waldurs_permissions(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    member = official(scripted_client, tenant.member)
    me = (await chat_sessions_current_retrieve.asyncio(client=member)).user
    usage = await chat_quota_usage_retrieve.asyncio(client=member, user_uuid=me)
    assert isinstance(usage, TokenQuotaUsageResponse)
    assert (usage.daily_limit, usage.daily_usage, usage.daily_remaining, usage.daily_system_default) == (
        None,
        0,
        None,
        -1,
    )
    assert usage.weekly_reset_at > usage.daily_reset_at or usage.weekly_reset_at == usage.daily_reset_at

    other = official(scripted_client, tenant.members[tenant.member_user(1)])
    theirs = (await chat_sessions_current_retrieve.asyncio(client=other)).user
    assert await _status(chat_quota_usage_retrieve.asyncio(client=member, user_uuid=theirs)) == 403
    limit = SetTokenQuotaRequest(user_uuid=me, daily_limit=20)
    assert await _status(chat_quota_set_quota.asyncio_detailed(client=member, body=limit)) == 403

    staff = official(scripted_client, tenant.admin)
    assert await _status(chat_quota_usage_retrieve.asyncio(client=staff, user_uuid=uuid.uuid4())) == 404
    nobody = SetTokenQuotaRequest(user_uuid=uuid.uuid4(), daily_limit=1)
    assert await _status(chat_quota_set_quota.asyncio_detailed(client=staff, body=nobody)) == 404
    assert (await chat_quota_set_quota.asyncio_detailed(client=staff, body=limit)).status_code == 200
    set_ = await chat_quota_usage_retrieve.asyncio(client=staff, user_uuid=me)
    assert (set_.daily_limit, set_.daily_remaining, set_.weekly_limit, set_.weekly_remaining) == (
        20,
        20,
        None,
        None,
    )


async def test_a_used_up_daily_quota_is_waldurs_409_and_quants_429(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    member = official(scripted_client, tenant.member)
    me = (await chat_sessions_current_retrieve.asyncio(client=member)).user
    staff = official(scripted_client, tenant.admin)
    await chat_quota_set_quota.asyncio_detailed(
        client=staff, body=SetTokenQuotaRequest(user_uuid=me, daily_limit=20, monthly_limit=-1)
    )
    await _turn(scripted_client, tenant.member)  # 14 tokens: under the limit, so it runs
    await _turn(scripted_client, tenant.member)  # 28 after this one: the check is before the call
    usage = await chat_quota_usage_retrieve.asyncio(client=member, user_uuid=me)
    assert (usage.daily_usage, usage.daily_remaining, usage.monthly_limit, usage.monthly_remaining) == (
        28,
        0,
        -1,
        None,
    )
    response, _ = await stream_turn(scripted_client, tenant.member, input="More")
    assert response.status_code == 409 and response.json() == {"detail": "Daily token limit exceeded."}
    quant = await scripted_client.post(
        f"/api/v3/organizations/{tenant.name}/ai/chat",
        json={"messages": [{"role": "user", "content": "More"}]},
        headers={"Authorization": f"Bearer {tenant.member}"},
    )
    assert quant.status_code == 429 and "Retry-After" in quant.headers
    # Another user is not limited by this one's quota; back to the default (none) lifts it.
    assert (await stream_turn(scripted_client, tenant.members[tenant.member_user(1)], input="Hi"))[
        0
    ].status_code == 200
    await chat_quota_set_quota.asyncio_detailed(
        client=staff, body=SetTokenQuotaRequest(user_uuid=me, daily_limit=None)
    )
    assert (await stream_turn(scripted_client, tenant.member, input="Again"))[0].status_code == 200


# ---- system prompts ----------------------------------------------------------------------------------


async def test_system_prompts_crud_count_and_one_active(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    staff = official(scripted_client, tenant.admin)
    first = await chat_system_prompts_create.asyncio(
        client=staff, body=SystemPromptRequest(name="Helpdesk", custom_instructions="Answer in Estonian.")
    )
    assert isinstance(first, SystemPrompt) and first.is_active is False and first.description == ""
    second = await chat_system_prompts_create.asyncio(client=staff, body=SystemPromptRequest(name="Terse"))
    assert await chat_system_prompts_count.asyncio(client=staff) == 2
    listed = await chat_system_prompts_list.asyncio(client=staff)
    assert [p.uuid for p in listed] == [second.uuid, first.uuid]  # newest first

    renamed = await chat_system_prompts_partial_update.asyncio(
        second.uuid, client=staff, body=PatchedSystemPromptRequest(description="Short answers")
    )
    assert (renamed.name, renamed.description) == ("Terse", "Short answers")
    replaced = await chat_system_prompts_update.asyncio(
        second.uuid, client=staff, body=SystemPromptRequest(name="Brief", custom_instructions="Be brief.")
    )
    assert (replaced.name, replaced.description, replaced.custom_instructions) == ("Brief", "", "Be brief.")

    assert (
        await chat_system_prompts_activate.asyncio(
            first.uuid, client=staff, body=SystemPromptRequest(name="x")
        )
    ).is_active
    now_second = await chat_system_prompts_activate.asyncio(
        second.uuid, client=staff, body=SystemPromptRequest(name="x")
    )
    assert now_second.is_active is True
    assert (await chat_system_prompts_retrieve.asyncio(first.uuid, client=staff)).is_active is False
    off = await chat_system_prompts_deactivate.asyncio(
        second.uuid, client=staff, body=SystemPromptRequest(name="x")
    )
    assert off.is_active is False

    assert (await chat_system_prompts_destroy.asyncio_detailed(first.uuid, client=staff)).status_code == 204
    assert await _status(chat_system_prompts_retrieve.asyncio(first.uuid, client=staff)) == 404
    assert await chat_system_prompts_count.asyncio(client=staff) == 1


async def test_system_prompts_are_staffs_and_the_organisations_own(
    scripted_client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    staff = official(scripted_client, tenant.admin)
    prompt = await chat_system_prompts_create.asyncio(client=staff, body=SystemPromptRequest(name="Ours"))
    member = official(scripted_client, tenant.member)
    assert await _status(chat_system_prompts_list.asyncio(client=member)) == 403
    assert await _status(chat_system_prompts_retrieve.asyncio(prompt.uuid, client=member)) == 403
    body = SystemPromptRequest(name="Mine")
    assert await _status(chat_system_prompts_create.asyncio(client=member, body=body)) == 403
    foreign = official(scripted_client, other_tenant.admin)
    assert await _status(chat_system_prompts_retrieve.asyncio(prompt.uuid, client=foreign)) == 404
    assert await _status(chat_system_prompts_activate.asyncio(prompt.uuid, client=foreign, body=body)) == 404
    assert await chat_system_prompts_count.asyncio(client=foreign) == 0


async def test_the_active_prompt_reaches_every_turn_of_the_organisation(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    staff = official(scripted_client, tenant.admin)
    prompt = await chat_system_prompts_create.asyncio(
        client=staff, body=SystemPromptRequest(name="Helpdesk", custom_instructions="Always cite the wiki.")
    )
    await _turn(scripted_client, tenant.member)
    assert "Always cite the wiki." not in (scripted.requests[-1].system or "")
    await chat_system_prompts_activate.asyncio(prompt.uuid, client=staff, body=SystemPromptRequest(name="x"))
    await _turn(scripted_client, tenant.member)
    assert "Always cite the wiki." in (scripted.requests[-1].system or "")
    quant = await scripted_client.post(
        f"/api/v3/organizations/{tenant.name}/ai/chat",
        json={"messages": [{"role": "user", "content": "Hi"}]},
        headers={"Authorization": f"Bearer {tenant.member}"},
    )
    assert quant.status_code == 200 and "Always cite the wiki." in (scripted.requests[-1].system or "")
    await chat_system_prompts_deactivate.asyncio(
        prompt.uuid, client=staff, body=SystemPromptRequest(name="x")
    )
    await _turn(scripted_client, tenant.member)
    assert "Always cite the wiki." not in (scripted.requests[-1].system or "")


# ---- cancel ------------------------------------------------------------------------------------------


async def test_cancel_stops_the_running_answer_and_keeps_what_was_said(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant, db: Database
) -> None:
    first = await _turn(scripted_client, tenant.member)
    thread = uuid.UUID(first["thread"])
    scripted.script = Script(deltas=["one ", "two ", *["more "] * 200], delay=0.05)
    running = asyncio.create_task(
        stream_turn(scripted_client, tenant.member, input="Talk for a long time", thread_uuid=thread.hex)
    )
    await eventually(_answer_started(scripted, 2))
    await asyncio.sleep(0.2)  # a few deltas are out
    owner = official(scripted_client, tenant.member)
    assert (
        await chat_threads_cancel.asyncio_detailed(thread, client=owner, body=ThreadSessionRequest())
    ).status_code == 200
    response, records = await asyncio.wait_for(running, timeout=5)
    assert response.status_code == 200 and records[-1]["m"]["done"] is True
    assert scripted.interrupted.is_set()
    said = "".join(r["c"] for r in records if r.get("k") == "markdown")
    assert said.startswith("one two") and len(said.split()) < 200
    async with db.read() as session:
        row = await session.get(MessageRow, uuid.UUID(records[-1]["m"]["assistant_message_uuid"]))
        assert row is not None and row.status == "cancelled" and row.content == said
    # Nothing running: still 200, and harmless.
    assert (
        await chat_threads_cancel.asyncio_detailed(thread, client=owner, body=ThreadSessionRequest())
    ).status_code == 200


async def test_only_the_owner_may_cancel(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    thread = uuid.UUID((await _turn(scripted_client, tenant.member))["thread"])
    for stranger in (tenant.admin, tenant.members[tenant.member_user(1)]):
        client = official(scripted_client, stranger)
        call = chat_threads_cancel.asyncio_detailed(thread, client=client, body=ThreadSessionRequest())
        assert await _status(call) == 404
    unknown = chat_threads_cancel.asyncio_detailed(
        uuid.uuid4(), client=official(scripted_client, tenant.member), body=ThreadSessionRequest()
    )
    assert await _status(unknown) == 404


def _answer_started(scripted: ScriptedProvider, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(scripted.requests) >= count

    return check


async def test_service_tokens_read_prompts_but_only_admins_change_them(
    scripted_client: httpx.AsyncClient, tenant: Tenant
) -> None:
    admin = official(scripted_client, tenant.admin)
    prompt = await chat_system_prompts_create.asyncio(client=admin, body=SystemPromptRequest(name="Ours"))
    service = official(scripted_client, tenant.service)
    assert [p.uuid for p in await chat_system_prompts_list.asyncio(client=service)] == [prompt.uuid]
    body = SystemPromptRequest(name="Theirs", custom_instructions="Obey the app.")
    assert await _status(chat_system_prompts_create.asyncio(client=service, body=body)) == 403
    assert await _status(chat_system_prompts_update.asyncio(prompt.uuid, client=service, body=body)) == 403
    assert await _status(chat_system_prompts_activate.asyncio(prompt.uuid, client=service, body=body)) == 403
    assert await _status(chat_system_prompts_destroy.asyncio_detailed(prompt.uuid, client=service)) == 403
