"""Which server processes are alive: each registers itself, keeps a heartbeat, and removes itself on exit.

Turns carry the id of the process running them (`messages.runner_id`), so when a process dies its turns
can be settled at once, not after the stale-turn window. A process is taken for dead only when that is
certain enough never to fail a turn another live replica is still running:

- it ran on this host and its process is gone (the pid no longer runs, or runs a process that started at
  another time: the pid was reused). This is what makes a restart settle the dead process's turns at once,
  and a live process here is never taken for dead, however late its heartbeat;
- or it ran on another host and its heartbeat is older than the lease (several missed heartbeats).

A process that stopped cleanly has removed its row; turns without a runner (older rows) still fall to the
age-based stale-turn sweep.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.storage.models import REPLICAS
from chatkeep.storage.types import utcnow


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """This server process: a fresh id per start, and how another process on this host can check on it."""

    id: str
    host: str
    pid: int
    process_start: str

    @classmethod
    def current(cls) -> ProcessIdentity:
        pid = os.getpid()
        return cls(id=uuid.uuid4().hex, host=socket.gethostname(), pid=pid, process_start=_start_of(pid))


def _start_of(pid: int) -> str:
    """When the process started, in clock ticks since boot (Linux /proc); "" where that is not known."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # Field 22; the command name (field 2) may hold spaces, so count from its closing parenthesis.
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


def is_gone(host: str, pid: int, process_start: str, *, here: ProcessIdentity) -> bool:
    """Whether a process of this host is certainly not running any more (False for other hosts)."""
    if host != here.host:
        return False
    if pid == here.pid:
        return process_start != here.process_start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # runs, as another user
        pass
    started = _start_of(pid)
    return bool(started and process_start and started != process_start)


async def register(session: AsyncSession, me: ProcessIdentity) -> None:
    """Record this process as alive."""
    now = utcnow()
    await session.execute(
        REPLICAS.insert().values(
            id=me.id,
            host=me.host,
            pid=me.pid,
            process_start=me.process_start,
            started_at=now,
            heartbeat_at=now,
        )
    )


async def heartbeat(session: AsyncSession, me: ProcessIdentity) -> None:
    """Say this process is still alive (registering it again if its row was taken for dead meanwhile)."""
    result = await session.execute(
        update(REPLICAS).where(REPLICAS.c.id == me.id).values(heartbeat_at=utcnow())
    )
    if not getattr(result, "rowcount", 0):
        await register(session, me)


async def retire(session: AsyncSession, me: ProcessIdentity) -> None:
    """Remove this process's row on a clean exit."""
    await session.execute(delete(REPLICAS).where(REPLICAS.c.id == me.id))


async def dead(
    session: AsyncSession, *, here: ProcessIdentity, lease: timedelta, now: datetime | None = None
) -> list[str]:
    """The ids of registered processes that are certainly dead (see the module docstring)."""
    cutoff = (now or utcnow()) - lease
    rows = await session.execute(
        select(
            REPLICAS.c.id, REPLICAS.c.host, REPLICAS.c.pid, REPLICAS.c.process_start, REPLICAS.c.heartbeat_at
        )
    )
    # On this host the process table is the truth (a busy process may miss heartbeats, yet lives on);
    # elsewhere only the lease can tell.
    return [
        row.id
        for row in rows
        if row.id != here.id
        and (
            is_gone(row.host, row.pid, row.process_start, here=here)
            if row.host == here.host
            else row.heartbeat_at < cutoff
        )
    ]


async def forget(session: AsyncSession, ids: list[str]) -> None:
    """Remove the rows of processes found dead (once their turns are settled)."""
    if ids:
        await session.execute(delete(REPLICAS).where(REPLICAS.c.id.in_(ids)))
