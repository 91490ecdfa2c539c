"""GET the organisation's audit trail (admin tokens only). There is no route that changes an entry."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from chatkeep.core import audit
from chatkeep.core.callers import Caller
from chatkeep.core.use_cases import audit_trail
from chatkeep.dialects.deps import DB, bearer_caller
from chatkeep.dialects.native.conversation_export import PREFIX

router = APIRouter(prefix=PREFIX, tags=["chatkeep"])
AdminCaller = Annotated[Caller, Depends(bearer_caller(org_in_path=True, admin=True))]


@router.get(
    "/audit",
    operation_id="listAuditEntries",
    responses={
        403: {"description": "Not an admin token of this organisation"},
        404: {"description": "`before` names no entry of this organisation"},
    },
)
async def list_entries(
    caller: AdminCaller,
    db: DB,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    before: Annotated[uuid.UUID | None, Query(description="Continue after this entry id")] = None,
) -> dict[str, Any]:
    """Who did what, when and from where, newest first. `next` continues the listing."""
    entries = await audit_trail.get_page(db, caller, limit=limit, before=before)
    return {
        "entries": [audit.describe(e) for e in entries],
        "next": str(entries[-1].id) if len(entries) == limit else None,
    }
