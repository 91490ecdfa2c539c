"""Checkpoints: a running turn's partial answer written to its reserved row now and then, so a crash
loses at most the last second (or the last 64 deltas) of what the client already saw.

The per-delta work is a counter and a clock read; the write runs in a task of its own, one at a time, so
a slow or unavailable database never holds up the stream. A checkpoint only touches a row still in
progress: it can never overwrite a settled answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

from sqlalchemy import bindparam, update

from chatkeep.storage.database import Database
from chatkeep.storage.models import MESSAGES
from chatkeep.storage.prepared import Prepared

log = logging.getLogger("chatkeep.turns")

EVERY_SECONDS = 1.0
EVERY_DELTAS = 64


class Checkpoints:
    """Checkpoints of one turn's answer row; `note` after each delta, `aclose` before settling."""

    def __init__(
        self,
        db: Database,
        message_id: uuid.UUID,
        *,
        input_tokens: int,
        every_seconds: float = EVERY_SECONDS,
        every_deltas: int = EVERY_DELTAS,
    ) -> None:
        self._db = db
        self._message_id = message_id
        self._input_tokens = input_tokens
        self._every_seconds = every_seconds
        self._every_deltas = every_deltas
        self._deltas = 0
        self._due = time.monotonic() + every_seconds
        self._writing: asyncio.Task[None] | None = None
        self.written = 0  # checkpoints stored (for tests and figures)

    def note(self, answer_so_far: Callable[[], str]) -> None:
        """A delta arrived: store the answer so far if a checkpoint is due (joined only then)."""
        self._deltas += 1
        if self._deltas < self._every_deltas and time.monotonic() < self._due:
            return
        if self._writing is not None and not self._writing.done():
            return  # the previous one is still being written; the next delta tries again
        self._deltas = 0
        self._due = time.monotonic() + self._every_seconds
        self._writing = asyncio.create_task(self._write(answer_so_far()))

    async def aclose(self) -> None:
        """Wait for a checkpoint being written, so it cannot land after the settle (it would not apply)."""
        if self._writing is not None:
            await asyncio.gather(self._writing, return_exceptions=True)

    async def _write(self, text: str) -> None:
        try:
            async with self._db.direct_write() as tx:
                await tx.run(
                    _CHECKPOINT,
                    {"message_id": self._message_id, "content": text, "input_tokens": self._input_tokens},
                )
            self.written += 1
        except (
            Exception
        ) as exc:  # the settle will store the answer; a missed checkpoint only narrows recovery
            log.warning("checkpoint of a running answer failed: %s", type(exc).__name__)


# Only a row still in progress: a checkpoint landing after the settle must not overwrite the answer.
_CHECKPOINT = Prepared(
    update(MESSAGES)
    .where(MESSAGES.c.id == bindparam("message_id"), MESSAGES.c.status == "in_progress")
    .values(content=bindparam("content"), input_tokens=bindparam("input_tokens"))
)
