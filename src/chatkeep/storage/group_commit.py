"""Group commit: the writes of concurrent callers run in one transaction, each caller's result returned once
it is committed.

Every turn ends with a small write (its settle), and under load many end within milliseconds of each
other: a transaction each costs each a connection checkout, a BEGIN and a COMMIT (and on SQLite a turn
at the write queue). Here a write waits only while the transaction before it commits; whatever arrived
meanwhile goes into the next one together. A caller is answered after the COMMIT, so what it reports
(a stream's final event) is durable.

If one write of a group fails, the group is rolled back and each of its writes runs again in a
transaction of its own, so only the failing caller sees its error. A write may therefore run twice (the
first time rolled back): it must do nothing but statements in the transaction it is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

from chatkeep.storage.direct import DirectTransaction

T = TypeVar("T")
Write = Callable[[DirectTransaction], Awaitable[Any]]
# Opens a write transaction holding the given rows' in-process queues (see Database.direct_write).
Opener = Callable[[Sequence[Hashable]], AbstractAsyncContextManager[DirectTransaction]]


@dataclass(slots=True)
class _Pending:
    write: Write
    serialize: Hashable | None
    done: asyncio.Future[Any]


class GroupCommit:
    """Runs writes in groups, one group at a time, in the order they arrived."""

    def __init__(self, open_transaction: Opener) -> None:
        self._open = open_transaction
        self._pending: list[_Pending] = []
        self._draining: asyncio.Task[None] | None = None
        self.groups = 0  # transactions committed (for tests and figures)

    async def run(
        self, write: Callable[[DirectTransaction], Awaitable[T]], *, serialize: Hashable | None
    ) -> T:
        """Run `write` in the next group's transaction; its result once that is committed.

        `serialize` names the row it locks (as for `Database.write`)."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(write, serialize, done))
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        try:
            while self._pending:
                group, self._pending = self._pending, []
                await self._commit(group)
        except BaseException:  # cancelled at shutdown: nobody may wait for ever
            for pending in self._pending:
                pending.done.cancel()
            raise
        finally:
            self._draining = None

    async def _commit(self, group: list[_Pending]) -> None:
        # One order of row locks for every group, so two groups (in two processes) never wait on each other.
        group.sort(key=lambda p: str(p.serialize))
        keys = [p.serialize for p in group if p.serialize is not None]
        try:
            async with self._open(keys) as tx:
                results = [await p.write(tx) for p in group]
        except BaseException as exc:
            if len(group) > 1 and isinstance(exc, Exception):
                for pending in group:  # alone, each write meets only its own failure
                    await self._commit([pending])
                return
            for pending in group:
                if isinstance(exc, Exception):
                    if not pending.done.done():
                        pending.done.set_exception(exc)
                else:
                    pending.done.cancel()
            if not isinstance(exc, Exception):
                raise
            return
        self.groups += 1
        for pending, result in zip(group, results, strict=True):
            if not pending.done.done():
                pending.done.set_result(result)
