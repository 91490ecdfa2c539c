"""The audit trail: who (token and role) did what to which subject, when, and from where.

Use cases add an entry with one call inside their own transaction, so an action and its entry are
committed together or not at all:

    await audit.record(session, principal=principal, action="token.revoke", subject=f"token:{token.id}")

"From where" is the client address of the HTTP request being served (observability.request_context), or
`cli` for the command line and `server` for background work. Entries are never updated or deleted: the
database refuses it (migration a7c3e91f0d24), and no API offers it. `details` holds names of changed fields
and non-content values such as limits; never message text or secrets.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.errors import InvalidInput, NotFound
from chatkeep.core.principals import Principal
from chatkeep.observability import request_context
from chatkeep.storage.models import AUDIT_ENTRIES, ApiToken, AuditEntry
from chatkeep.storage.types import utcnow

# Actors that are not API tokens.
OPERATOR = "operator"  # someone at the server's command line
SYSTEM = "system"  # chatkeep itself (background housekeeping)

ACTIONS = frozenset(
    {
        "token.create",
        "token.revoke",
        "config.update",
        "guard_policy.update",
        "quota.update",
        "conversation.archive",
        "conversation.unarchive",
        "conversation.delete",
        "retention.purge",
    }
)
QUOTA_FIELDS = frozenset({"requests_per_minute", "monthly_token_quota"})
# Config fields whose new value the trail records (numbers, never text).
VALUE_FIELDS = QUOTA_FIELDS | {"retention_days"}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted when no API token did: the command line's operator, or chatkeep's background work."""

    role: str
    org_id: uuid.UUID | None = None
    where: str = "cli"


def operator(org_id: uuid.UUID | None) -> Actor:
    return Actor(role=OPERATOR, org_id=org_id, where="cli")


def system(org_id: uuid.UUID | None) -> Actor:
    return Actor(role=SYSTEM, org_id=org_id, where="server")


async def record(
    session: AsyncSession,
    *,
    principal: Principal | Actor,
    action: str,
    subject: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an entry in the caller's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")  # a programming error, not a caller's
    facts = request_context.current()
    if isinstance(principal, Principal):
        who: dict[str, Any] = {
            "org_id": principal.org_id,
            "actor_token_id": principal.token_id,
            "actor_role": principal.role.value,
            "actor_user": principal.user_id,
            "client_address": facts.client_address if facts else None,
        }
    else:
        who = {
            "org_id": principal.org_id,
            "actor_token_id": None,
            "actor_role": principal.role,
            "actor_user": None,
            "client_address": principal.where,
        }
    await session.execute(
        insert(AUDIT_ENTRIES).values(
            id=uuid.uuid4(),
            action=action,
            subject=subject[:255],
            details=details or {},
            request_id=facts.request_id if facts else None,
            created_at=utcnow(),
            **who,
        )
    )


def archive_action(archived: bool) -> str:
    return "conversation.archive" if archived else "conversation.unarchive"


def config_change(principal: Principal, changes: dict[str, Any]) -> dict[str, Any]:
    """`action`, `subject` and `details` of an AI-config change.

    Guard-policy and limit (quota) changes have actions of their own, so they can be found without
    reading every config change. Details name the fields changed and carry the new limits; prompts and
    policies themselves stay in the config, not in the trail.
    """
    fields = set(changes)
    if "guard_policy" in fields:
        action = "guard_policy.update"
    elif fields & QUOTA_FIELDS:
        action = "quota.update"
    else:
        action = "config.update"
    details: dict[str, Any] = {"fields": sorted(fields)}
    details.update({name: changes[name] for name in sorted(fields & VALUE_FIELDS)})
    return {"action": action, "subject": f"org:{principal.org_name}", "details": details}


def token_created(token: ApiToken) -> dict[str, Any]:
    """`action`, `subject` and `details` of a token's creation (never its secret or digest)."""
    return {
        "action": "token.create",
        "subject": f"token:{token.id}",
        "details": {"user": token.user_id, "role": token.role, "name": token.name},
    }


async def get_all(
    session: AsyncSession,
    *,
    org_id: uuid.UUID | None = None,
    limit: int = 50,
    before: uuid.UUID | None = None,
) -> list[AuditEntry]:
    """Entries newest first, optionally of one organisation; `before` (an entry id) continues a page."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000", field="limit")
    query = select(AuditEntry)
    if org_id is not None:
        query = query.where(AuditEntry.org_id == org_id)
    if before is not None:
        anchor = await session.get(AuditEntry, before)
        if anchor is None or (org_id is not None and anchor.org_id != org_id):
            raise NotFound("no audit entry with that id to continue after", field="before")
        last = tuple_(
            literal(anchor.created_at, AuditEntry.created_at.type), literal(anchor.id, AuditEntry.id.type)
        )
        query = query.where(tuple_(AuditEntry.created_at, AuditEntry.id) < last)
    query = query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


def describe(entry: AuditEntry) -> dict[str, Any]:
    """An entry as plain values (for the API and the CLI)."""
    return {
        "id": str(entry.id),
        "org_id": str(entry.org_id) if entry.org_id else None,
        "at": _iso(entry.created_at),
        "actor": {
            "token_id": str(entry.actor_token_id) if entry.actor_token_id else None,
            "role": entry.actor_role,
            "user": entry.actor_user,
        },
        "action": entry.action,
        "subject": entry.subject,
        "details": entry.details or {},
        "client_address": entry.client_address,
        "request_id": entry.request_id,
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
