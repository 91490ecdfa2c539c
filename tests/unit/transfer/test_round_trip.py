"""Export → import into a fresh database (SQLite, and PostgreSQL when configured) → export again: the
same records, every message version, verdict and usage row included."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from chatkeep.core.errors import InvalidInput
from chatkeep.storage.database import Database
from chatkeep.storage.migrate import migrate
from chatkeep.storage.models import Message
from chatkeep.transfer import exporting, importing
from tests.conftest import BACKENDS, POSTGRES_URL, _create_pg_database, _drop_pg_database
from tests.unit.transfer.org_world import fill_org


async def fresh_database(backend: str, tmp_path: Path) -> tuple[Database, str | None]:
    """A migrated empty database; the PostgreSQL one's name, to drop it afterwards."""
    if backend == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / uuid.uuid4().hex}.db")
        dropped = None
    else:
        assert POSTGRES_URL
        url, dropped = await _create_pg_database(POSTGRES_URL)
        db = Database(url, pool_size=2, max_overflow=2)
    await migrate(db)
    return db, dropped


@pytest.fixture
async def databases(tmp_path: Path) -> AsyncIterator[dict[str, Database]]:
    """One fresh database per backend under test, plus a second SQLite one."""
    opened: list[tuple[Database, str | None]] = []
    out = {}
    for backend in [*BACKENDS, "sqlite-again"]:
        db, name = await fresh_database("sqlite" if backend == "sqlite-again" else backend, tmp_path)
        opened.append((db, name))
        out[backend] = db
    yield out
    for db, name in opened:
        await db.dispose()
        if name and POSTGRES_URL:
            await _drop_pg_database(POSTGRES_URL, name)


async def export_lines(db: Database, org: str, since: datetime | None = None) -> list[dict[str, Any]]:
    return [line async for line in exporting.export_org(db, org_name=org, since=since)]


def comparable(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records without the export's own moment."""
    return [{k: v for k, v in line.items() if k != "exported_at"} for line in lines]


@pytest.mark.parametrize("middle", BACKENDS)
async def test_sqlite_to_each_backend_and_back_keeps_every_record(
    databases: dict[str, Database], middle: str
) -> None:
    source = databases["sqlite"]
    org = await fill_org(source)
    original = await export_lines(source, org)
    kinds = [line["record"] for line in original]
    assert kinds.count("conversation") == 3 and kinds.count("message") == 3 * 6
    assert kinds.count("usage") == 4 and kinds.count("chat_session") == 2

    target = databases[middle] if middle != "sqlite" else databases["sqlite-again"]
    summary = await importing.import_records(target, original)
    assert summary.created_org and summary.added["message"] == 18 and sum(summary.skipped.values()) == 0
    copied = await export_lines(target, org)
    assert comparable(copied) == comparable(original)

    back = databases["sqlite-again"] if middle != "sqlite" else None
    if back is not None:
        await importing.import_records(back, copied)
        assert comparable(await export_lines(back, org)) == comparable(original)


async def test_every_version_and_verdict_survives(databases: dict[str, Database]) -> None:
    source = databases["sqlite"]
    org = await fill_org(source, conversations_count=1)
    lines = await export_lines(source, org)
    messages = [line for line in lines if line["record"] == "message"]
    # Two roots' worth of branching: the question has two answers, the system message two questions.
    parents = [m["parent_id"] for m in messages]
    assert len(set(parents)) < len(parents)
    flagged = [m for m in messages if m["is_flagged"]]
    assert flagged[0]["pii_categories"] == {"phone": "medium"} and flagged[0]["action_taken"] == "redact"
    assert flagged[0]["blocks"] == [{"type": "text", "text": "call me on [PHONE]"}]
    conversation = next(line for line in lines if line["record"] == "conversation")
    assert conversation["active_leaf_id"] == messages[-1]["id"]


async def test_importing_twice_adds_nothing_the_second_time(databases: dict[str, Database]) -> None:
    source, target = databases["sqlite"], databases["sqlite-again"]
    org = await fill_org(source)
    lines = await export_lines(source, org)
    await importing.import_records(target, lines)
    again = await importing.import_records(target, lines)
    assert not again.created_org and sum(again.added.values()) == 0
    assert again.skipped["message"] == 18 and again.skipped["usage"] == 4
    async with target.read() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 18


async def test_an_existing_organisation_of_that_name_receives_the_rows(
    databases: dict[str, Database],
) -> None:
    source, target = databases["sqlite"], databases["sqlite-again"]
    org = await fill_org(source, conversations_count=1)
    await fill_org(target, org, conversations_count=1)  # same name, another id
    summary = await importing.import_records(target, await export_lines(source, org))
    assert not summary.created_org and summary.added["conversation"] == 1
    lines = await export_lines(target, org)
    assert [line["record"] for line in lines].count("conversation") == 2
    target_org = lines[0]["org"]["id"]
    assert {line["org_id"] for line in lines[1:]} == {target_org}


async def test_since_keeps_only_recent_conversations_and_usage(databases: dict[str, Database]) -> None:
    source = databases["sqlite"]
    org = await fill_org(source)
    assert [line for line in await export_lines(source, org, datetime.now(UTC) + timedelta(minutes=1))][
        1:
    ] == []
    everything = await export_lines(source, org, datetime.now(UTC) - timedelta(minutes=5))
    assert len(everything) == len(await export_lines(source, org))


async def test_a_file_that_is_not_an_export_is_refused(databases: dict[str, Database]) -> None:
    with pytest.raises(InvalidInput, match="header"):
        await importing.import_records(databases["sqlite"], [{"record": "message", "id": "x"}])
    header = {"record": "chatkeep-export", "version": 1, "org": {"id": str(uuid.uuid4()), "name": "fine"}}
    with pytest.raises(InvalidInput, match="line 2: unknown record"):
        await importing.import_records(databases["sqlite"], [header, {"record": "password"}])
