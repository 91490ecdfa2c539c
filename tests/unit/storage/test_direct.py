"""Prepared statements on the driver: the values, counts and errors SQLAlchemy gives, on both backends."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from chatkeep.storage.database import Database
from chatkeep.storage.models import USAGE_RECORDS, Organisation
from chatkeep.storage.prepared import Prepared
from chatkeep.storage.types import utcnow
from tests.support import make_tenant

INSERT = Prepared(insert(USAGE_RECORDS))
OF_ORG = Prepared(
    select(USAGE_RECORDS)
    .where(USAGE_RECORDS.c.org_id == bindparam("org_id"), USAGE_RECORDS.c.kind == "chat")
    .order_by(USAGE_RECORDS.c.latency_ms)
)
SLOWER = Prepared(
    update(USAGE_RECORDS)
    .where(USAGE_RECORDS.c.org_id == bindparam("org_id"))
    .values(latency_ms=USAGE_RECORDS.c.latency_ms + bindparam("more", type_=USAGE_RECORDS.c.latency_ms.type))
)


async def _org_id(db: Database) -> uuid.UUID:
    tenant = await make_tenant(db, members=0)
    async with db.read() as session:
        return (
            await session.execute(select(Organisation.id).where(Organisation.name == tenant.name))
        ).scalar_one()


def _usage(org_id: uuid.UUID, latency_ms: int) -> dict[str, Any]:
    return dict(
        id=uuid.uuid4(),
        org_id=org_id,
        user_id="u",
        token_id=None,
        conversation_id=uuid.uuid4(),
        model="m",
        input_tokens=3,
        output_tokens=2**53 - 1,
        cost_cents=0.25,
        latency_ms=latency_ms,
        status="complete",
        kind="chat",
        created_at=utcnow(),
    )


async def test_rows_and_counts_are_what_the_orm_session_reads(db: Database) -> None:
    org_id = await _org_id(db)
    async with db.direct_write() as tx:
        await tx.run_many(INSERT, [_usage(org_id, 5), _usage(org_id, 7)])
        assert await tx.run(SLOWER, {"org_id": org_id, "more": 10}) == 2
    async with db.direct_read() as tx:
        direct = await tx.fetch(OF_ORG, {"org_id": org_id})
    async with db.read() as session:
        orm = [tuple(r) for r in await session.execute(OF_ORG.statement, {"org_id": org_id})]
    assert direct == orm and [r[9] for r in direct] == [15, 17]
    assert isinstance(direct[0][0], uuid.UUID) and direct[0][12].tzinfo is not None


async def test_an_error_is_sqlalchemys_and_the_write_is_rolled_back(db: Database) -> None:
    org_id = await _org_id(db)
    row = _usage(org_id, 1)
    with pytest.raises(IntegrityError):
        async with db.direct_write() as tx:
            await tx.run(INSERT, _usage(org_id, 2))
            await tx.run(INSERT, row)
            await tx.run(INSERT, row)
    async with db.direct_read() as tx:
        assert await tx.fetch(OF_ORG, {"org_id": org_id}) == []
        assert await tx.first(OF_ORG, {"org_id": org_id}) is None
