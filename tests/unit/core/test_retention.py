"""Retention deletes exactly the conversations (with every message version) untouched for longer than
their organisation's `retention_days`, leaves the usage ledger, and says so in the audit trail."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from chatkeep.core import audit, conversations, housekeeping, organisations, retention
from chatkeep.core import usage as usage_ledger
from chatkeep.core.conversations import NewMessage
from chatkeep.core.principals import Principal, Role
from chatkeep.storage.database import Database
from chatkeep.storage.models import Conversation, Message, UsageRecord
from chatkeep.storage.types import utcnow
from tests.fakes import ScriptedProvider
from tests.support import Tenant
from tests.unit.dialects.test_quant_chat import ai
from tests.unit.dialects.test_quant_sessions import bearer


async def org_with_history(
    db: Database, *, retention_days: int | None, ages: list[int]
) -> tuple[Principal, list[uuid.UUID]]:
    """An organisation with one conversation per age (days since its last activity), two versions of an
    answer in each, and a usage row per conversation."""
    config = {"retention_days": retention_days} if retention_days else {}
    async with db.write() as session:
        org = await organisations.create(session, name=f"org-{uuid.uuid4().hex[:10]}", config=config)
        principal = Principal(org_id=org.id, org_name=org.name, user_id="svc", role=Role.SERVICE)
        ids = []
        for age in ages:
            conversation = await conversations.create(
                session,
                principal=principal,
                user_id="u",
                initial_messages=[NewMessage("user", "q"), NewMessage("assistant", "a")],
            )
            question = (await conversations.visible_history(session, conversation=conversation))[0]
            await conversations.append_messages(
                session,
                conversation=conversation,
                messages=[NewMessage("assistant", "a2")],
                parent_id=question.id,
            )
            await usage_ledger.record(
                session,
                principal=principal,
                user_id="u",
                model="m",
                input_tokens=1,
                output_tokens=1,
                latency_ms=1,
                status="complete",
                conversation_id=conversation.id,
            )
            await session.execute(
                update(Conversation)
                .where(Conversation.id == conversation.id)
                .values(updated_at=utcnow() - timedelta(days=age))
            )
            ids.append(conversation.id)
    return principal, ids


async def remaining(db: Database, org_id: uuid.UUID) -> tuple[int, int, int]:
    """(conversations, messages, usage rows) the organisation still has."""
    async with db.read() as session:
        counts = []
        for model in (Conversation, Message, UsageRecord):
            counts.append(
                int(
                    await session.scalar(
                        select(func.count()).select_from(model).where(model.org_id == org_id)
                    )
                    or 0
                )
            )
    return counts[0], counts[1], counts[2]


async def test_exactly_the_conversations_past_retention_go(db: Database) -> None:
    kept_org, _ = await org_with_history(db, retention_days=None, ages=[400, 900])
    org, ids = await org_with_history(db, retention_days=30, ages=[1, 29, 31, 400])
    await retention.purge(db)
    async with db.read() as session:
        left = set(
            (
                await session.execute(select(Conversation.id).where(Conversation.org_id == org.org_id))
            ).scalars()
        )
    assert left == {ids[0], ids[1]}
    assert await remaining(db, org.org_id) == (2, 6, 4), "messages of deleted conversations go; usage stays"
    assert await remaining(db, kept_org.org_id) == (2, 6, 2), "no retention set: nothing deleted"
    async with db.read() as session:
        [entry] = await audit.get_all(session, org_id=org.org_id)
    assert (entry.action, entry.actor_role, entry.client_address) == ("retention.purge", "system", "server")
    assert entry.details["conversations"] == 2 and entry.details["retention_days"] == 30
    await retention.purge(db)
    async with db.read() as session:
        assert len(await audit.get_all(session, org_id=org.org_id)) == 1, "nothing to delete, nothing logged"


async def test_large_purges_go_in_batches_each_with_its_entry(db: Database) -> None:
    org, _ = await org_with_history(db, retention_days=7, ages=[10] * 5)
    assert await retention.purge(db, batch_size=2) == 5
    async with db.read() as session:
        entries = await audit.get_all(session, org_id=org.org_id)
    assert sorted(e.details["conversations"] for e in entries) == [1, 2, 2]


async def test_the_background_housekeeping_applies_retention(db: Database) -> None:
    org, _ = await org_with_history(db, retention_days=1, ages=[2])
    task = asyncio.create_task(housekeeping.run_forever(db, interval=3600))
    try:
        for _ in range(100):
            if (await remaining(db, org.org_id))[0] == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert (await remaining(db, org.org_id))[0] == 0


async def test_retention_is_set_through_the_config_and_audited(
    scripted_client: httpx.AsyncClient, scripted: ScriptedProvider, tenant: Tenant
) -> None:
    saved = await scripted_client.put(
        f"{ai(tenant)}/config", json={"retention_days": 90}, headers=bearer(tenant.admin)
    )
    assert saved.status_code == 200, saved.text
    config = await scripted_client.get(f"{ai(tenant)}/config", headers=bearer(tenant.admin))
    assert config.json()["retention_days"] == 90
    invalid = await scripted_client.put(
        f"{ai(tenant)}/config", json={"retention_days": 0}, headers=bearer(tenant.admin)
    )
    assert invalid.status_code == 400
    trail = await scripted_client.get(
        f"/native/v1/organisations/{tenant.name}/audit", headers=bearer(tenant.admin)
    )
    assert trail.json()["entries"][0]["details"] == {"fields": ["retention_days"], "retention_days": 90}
