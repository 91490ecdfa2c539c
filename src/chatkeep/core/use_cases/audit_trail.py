"""Audit trail use cases: an organisation's entries, newest first, for its admins (read-only: entries are
never changed through any use case)."""

from __future__ import annotations

import uuid

from chatkeep.core import audit
from chatkeep.core.callers import Caller
from chatkeep.core.errors import Forbidden
from chatkeep.core.principals import Role
from chatkeep.storage.database import Database
from chatkeep.storage.models import AuditEntry


async def get_page(
    db: Database, caller: Caller, *, limit: int = 50, before: uuid.UUID | None = None
) -> list[AuditEntry]:
    """The caller's organisation's entries, newest first; `before` (an entry id) continues a page."""
    if caller.principal.role != Role.ADMIN:
        raise Forbidden("only an admin token may read the audit trail")
    async with db.read() as session:
        return await audit.get_all(session, org_id=caller.principal.org_id, limit=limit, before=before)
