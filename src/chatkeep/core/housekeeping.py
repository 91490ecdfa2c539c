"""Background upkeep that must never block requests: purging expired sessions, applying retention,
failing stale turns, and this process's heartbeat with the recovery of the turns of dead processes."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from chatkeep.core import console_sessions, conversations, replicas, retention
from chatkeep.core.turns.recovery import settle_orphans
from chatkeep.storage.database import Database

if TYPE_CHECKING:
    from chatkeep.providers.registry import ModelRegistry

log = logging.getLogger("chatkeep.housekeeping")


async def purge_expired(db: Database, *, batch_size: int = 500) -> int:
    """Delete every expired conversation, in short batches so writers are never held up for long."""
    total = 0
    while True:
        async with db.write() as session:
            purged = await conversations.purge_expired(session, batch_size=batch_size)
        total += purged
        if purged < batch_size:
            return total
        await asyncio.sleep(0)  # let waiting requests in between batches


async def fail_stale_turns(db: Database, *, older_than: timedelta) -> int:
    """Mark assistant rows left "in progress" by a crashed server as failed, so no turn hangs forever."""
    async with db.write() as session:
        return await conversations.fail_stale_turns(session, older_than=older_than)


async def run_forever(db: Database, *, interval: float, stale_turn_seconds: float = 180.0) -> None:
    """Recover and purge on a timer until cancelled; a failed round is logged and retried next time."""
    while True:
        try:
            recovered = await fail_stale_turns(db, older_than=timedelta(seconds=stale_turn_seconds))
            if recovered:
                log.warning("marked %d interrupted turns as failed", recovered)
            purged = await purge_expired(db)
            if purged:
                log.info("purged %d expired sessions", purged)
            async with db.write() as session:
                await console_sessions.purge_ended(session)
            retained = await retention.purge(db)
            if retained:
                log.info("deleted %d conversations past their organisation's retention", retained)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("purging expired sessions failed; will retry")
        await asyncio.sleep(interval)


async def keep_alive(
    db: Database, registry: ModelRegistry, *, me: replicas.ProcessIdentity, interval: float, lease: float
) -> None:
    """Heartbeat every `interval` seconds and settle the turns of processes found dead, until cancelled;
    a failed round (the database is unavailable) is logged and retried next time."""
    while True:
        await asyncio.sleep(interval)
        try:
            async with db.write() as session:
                await replicas.heartbeat(session, me)
            await settle_orphans(db, registry, here=me, lease=timedelta(seconds=lease))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("heartbeat failed (%s); will retry", type(exc).__name__)
