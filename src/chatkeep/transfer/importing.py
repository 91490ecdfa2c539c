"""Load export records into a database: the organisation (created if missing), then its rows, in batches.

Rows already present (same id) are skipped, with their messages, so importing a file twice, or an
incremental file over a full one, adds only what is new. When the organisation exists under another id
(a different installation), every row is moved to the existing one. Each batch is its own short
transaction: a large import never holds the write lock for long, and memory stays bounded.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core import chat_sessions, organisations
from chatkeep.core.errors import InvalidInput
from chatkeep.storage.database import Database
from chatkeep.storage.models import CONVERSATIONS, MESSAGES, USAGE_RECORDS, Organisation
from chatkeep.transfer.exporting import CHAT_SESSIONS, FORMAT, VERSION
from chatkeep.transfer.records import from_json

BATCH = 1000
# Insert order within a batch: a conversation before its messages.
_TABLES: dict[str, Table] = {
    "conversation": CONVERSATIONS,
    "message": MESSAGES,
    "chat_session": CHAT_SESSIONS,
    "usage": USAGE_RECORDS,
}


@dataclass(slots=True)
class ImportSummary:
    """What an import did: rows added and rows skipped (already present), by record kind."""

    org_name: str = ""
    created_org: bool = False
    added: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_TABLES, 0))
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_TABLES, 0))


async def import_records(
    db: Database, lines: Iterable[dict[str, Any]], *, on_line: Callable[[], None] | None = None
) -> ImportSummary:
    """Import parsed export lines (header first); `on_line` is called after each (a progress bar)."""
    iterator = iter(lines)
    header = next(iterator, None)
    if header is None or header.get("record") != FORMAT:
        raise InvalidInput("not a chatkeep export: the first line must be its header", field="file")
    if header.get("version") != VERSION:
        raise InvalidInput(f"unsupported export version {header.get('version')!r}", field="file")
    try:
        exported_org = {"id": str(uuid.UUID(str(header["org"]["id"]))), **header["org"]}
        summary = ImportSummary(org_name=str(exported_org["name"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"line 1: the header's org is malformed ({exc})", field="file") from None
    org_id = await _target_org(db, exported_org, summary)
    batch = _Batch(org_id)
    for number, line in enumerate(iterator, start=2):
        kind = line.get("record") if isinstance(line, dict) else None
        if kind not in _TABLES:
            raise InvalidInput(f"line {number}: unknown record {kind!r}", field="file")
        try:
            batch.add(kind, line)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"line {number}: malformed {kind} ({exc})", field="file") from None
        if batch.size >= BATCH:
            await batch.flush(db, summary)
        if on_line is not None:
            on_line()
    await batch.flush(db, summary)
    return summary


async def _target_org(db: Database, exported: dict[str, Any], summary: ImportSummary) -> uuid.UUID:
    """The id of the organisation to import into, creating it (with its exported id and config) if new."""
    async with db.write() as session:
        existing = await organisations.get_by_name(session, name=exported["name"])
        if existing is not None:
            return existing.id
        wanted = uuid.UUID(exported["id"])
        org = Organisation(
            id=None if await session.get(Organisation, wanted) else wanted,
            name=organisations.validate_name(exported["name"]),
            config=exported.get("config") or {},
        )
        session.add(org)
        await session.flush()
        summary.created_org = True
        return org.id


class _Batch:
    """Rows waiting to be inserted, by record kind; remembers conversations skipped as already present."""

    def __init__(self, org_id: uuid.UUID) -> None:
        self.org_id = org_id
        self.rows: dict[str, list[dict[str, Any]]] = {kind: [] for kind in _TABLES}
        self.size = 0
        self.skipped_conversations: set[uuid.UUID] = set()

    def add(self, kind: str, line: dict[str, Any]) -> None:
        values = from_json(_TABLES[kind], line)
        values["org_id"] = self.org_id
        if kind == "chat_session":  # its ids are derived from the organisation's id and the user
            values["id"] = chat_sessions.session_id(self.org_id, values["user_id"])
            values["user_uuid"] = chat_sessions.user_uuid(self.org_id, values["user_id"])
        self.rows[kind].append(values)
        self.size += 1

    async def flush(self, db: Database, summary: ImportSummary) -> None:
        if not self.size:
            return
        try:
            await self._insert(db, summary)
        except IntegrityError as exc:
            # A row the file describes is incomplete or contradicts the database (the rows before this
            # batch are stored). The driver's first line names the constraint, not the row's values.
            reason = str(exc.orig).splitlines()[0] if exc.orig else "constraint violated"
            raise InvalidInput(f"the file's rows could not be stored: {reason}", field="file") from None
        self.rows = {kind: [] for kind in _TABLES}
        self.size = 0

    async def _insert(self, db: Database, summary: ImportSummary) -> None:
        async with db.write() as session:
            for kind, table in _TABLES.items():
                rows = self.rows[kind]
                if kind == "message":
                    rows = [r for r in rows if r["conversation_id"] not in self.skipped_conversations]
                fresh = await _absent(session, table, rows)
                if kind == "conversation":
                    self.skipped_conversations |= {r["id"] for r in rows} - {r["id"] for r in fresh}
                if fresh:
                    await session.execute(insert(table), fresh)
                summary.added[kind] += len(fresh)
                summary.skipped[kind] += len(self.rows[kind]) - len(fresh)


async def _absent(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows whose id is not in `table` yet."""
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    present = set((await session.execute(select(table.c.id).where(table.c.id.in_(ids)))).scalars())
    return [r for r in rows if r["id"] not in present]
