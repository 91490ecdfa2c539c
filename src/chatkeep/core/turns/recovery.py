"""Recovery: the answers of turns whose server process died, settled at once as far as they were
checkpointed — status `failed`, usage for what was generated — in place of waiting out the stale-turn
window. Which processes are dead, and why that never includes a live replica, is `core.replicas`' rule.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, true

from chatkeep.core import conversations, replicas
from chatkeep.core import usage as usage_ledger
from chatkeep.core.turns.settle import bounded, cost_cents
from chatkeep.storage.database import Database
from chatkeep.storage.models import CONVERSATIONS, MESSAGES, REPLICAS

if TYPE_CHECKING:
    from chatkeep.providers.registry import ModelRegistry

log = logging.getLogger("chatkeep.turns")


async def settle_orphans(
    db: Database, registry: ModelRegistry, *, here: replicas.ProcessIdentity, lease: timedelta
) -> int:
    """Settle every answer left in progress by a dead process, then forget those processes; returns how
    many answers were settled.

    A runner with no row at all is dead too: it left (a clean exit whose last settles could not be
    stored) or was forgotten. A live process registers before it runs any turn, and re-registers on its
    next heartbeat should it have been taken for dead.
    """
    async with db.write() as session:
        dead = await replicas.dead(session, here=here, lease=lease)
        registered = select(REPLICAS.c.id).where(REPLICAS.c.id.not_in(dead) if dead else true())
        orphaned = or_(MESSAGES.c.runner_id.in_(dead), MESSAGES.c.runner_id.not_in(registered))
        rows = await session.execute(
            select(
                MESSAGES.c.id,
                MESSAGES.c.org_id,
                MESSAGES.c.conversation_id,
                MESSAGES.c.content,
                MESSAGES.c.model,
                MESSAGES.c.input_tokens,
                CONVERSATIONS.c.user_id,
            )
            .join(CONVERSATIONS, CONVERSATIONS.c.id == MESSAGES.c.conversation_id)
            .where(MESSAGES.c.status == "in_progress", MESSAGES.c.runner_id.is_not(None), orphaned)
        )
        settled = 0
        for row in rows.all():
            model = registry.get(row.model) if row.model else None
            tokens_in = bounded(row.input_tokens or 0)
            if model is not None:
                tokens_out = bounded(registry.count_tokens(model, row.content) if row.content else 0)
                cost = cost_cents(model, tokens_in, tokens_out)
            else:  # the model left the models file meanwhile: a rough count, and no price
                tokens_out, cost = bounded(len(row.content) // 4), 0.0
            first = await conversations.settle_answer(
                session,
                conversation_id=row.conversation_id,
                message_id=row.id,
                content=row.content,
                status="failed",
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                blocks=None,
                model=row.model or "",
            )
            if not first:
                continue
            await usage_ledger.record_row(
                session,
                org_id=row.org_id,
                token_id=None,  # the token is not stored with the answer
                user_id=row.user_id,
                model=row.model or "",
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                latency_ms=0,
                status="failed",
                cost_cents=cost,
                conversation_id=row.conversation_id,
            )
            settled += 1
        await replicas.forget(session, dead)
    if settled:
        log.warning("settled %d answers left in progress by server processes that died", settled)
    return settled
