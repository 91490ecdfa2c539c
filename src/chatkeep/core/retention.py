"""Retention: each organisation may keep conversations only so long (its AI config's `retention_days`).

A conversation whose last activity (`updated_at`) is older than the organisation's retention is deleted
with every message version in it. The usage ledger stays: it holds counts, never content, and monthly
quotas and statistics are sums over it. Each batch deleted is one transaction with its audit entry
(`retention.purge`, by the system), so the trail says what went and when.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core import audit, org_config
from chatkeep.storage.database import Database
from chatkeep.storage.models import Conversation, Message, Organisation
from chatkeep.storage.types import utcnow


@dataclass(frozen=True, slots=True)
class Policy:
    org_id: uuid.UUID
    org_name: str
    days: int


async def policies(session: AsyncSession) -> list[Policy]:
    """The organisations that set a retention, with it."""
    rows = (await session.execute(select(Organisation))).scalars()
    return [
        Policy(org.id, org.name, days)
        for org in rows
        if (days := org_config.of(org).retention_days) is not None
    ]


async def purge_batch(session: AsyncSession, policy: Policy, *, now: datetime, batch_size: int) -> int:
    """Delete up to `batch_size` conversations of the organisation untouched since its cutoff, and record
    it in the audit trail; returns how many went."""
    cutoff = now - timedelta(days=policy.days)
    ids = list(
        (
            await session.execute(
                select(Conversation.id)
                .where(Conversation.org_id == policy.org_id, Conversation.updated_at < cutoff)
                .order_by(Conversation.updated_at, Conversation.id)
                .limit(batch_size)
            )
        ).scalars()
    )
    if not ids:
        return 0
    await session.execute(delete(Message).where(Message.conversation_id.in_(ids)))
    await session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
    await audit.record(
        session,
        principal=audit.system(policy.org_id),
        action="retention.purge",
        subject=f"org:{policy.org_name}",
        details={"conversations": len(ids), "retention_days": policy.days, "cutoff": cutoff.isoformat()},
    )
    return len(ids)


async def purge(db: Database, *, now: datetime | None = None, batch_size: int = 500) -> int:
    """Apply every organisation's retention, in short batches so writers are never held up for long."""
    moment = now or utcnow()
    async with db.read() as session:
        found = await policies(session)
    total = 0
    for policy in found:
        while True:
            async with db.write() as session:
                purged = await purge_batch(session, policy, now=moment, batch_size=batch_size)
            total += purged
            if purged < batch_size:
                break
    return total
