"""Turns that are running, by conversation, so that one can be stopped on request from any replica."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import TYPE_CHECKING

from chatkeep.storage.stop_signals import InProcessSignals, StopSignals

if TYPE_CHECKING:
    from chatkeep.core.turns.turn import Turn


class RunningTurns:
    """The turns running in this process. `stop` reaches the others through the stop signals."""

    def __init__(self, signals: StopSignals | None = None) -> None:
        self._signals = signals or InProcessSignals()
        self._turns: dict[uuid.UUID, set[Turn]] = defaultdict(set)

    async def start(self) -> None:
        await self._signals.start(self.stop_here)

    async def aclose(self) -> None:
        await self._signals.aclose()

    def add(self, conversation_id: uuid.UUID, turn: Turn) -> None:
        self._turns[conversation_id].add(turn)

    def discard(self, conversation_id: uuid.UUID, turn: Turn) -> None:
        turns = self._turns.get(conversation_id)
        if turns is not None:
            turns.discard(turn)
            if not turns:
                del self._turns[conversation_id]

    def is_running(self, conversation_id: uuid.UUID) -> bool:
        """Whether a turn of the conversation runs in this process."""
        return bool(self._turns.get(conversation_id))

    async def stop(self, conversation_id: uuid.UUID) -> None:
        """Stop the conversation's running turns, wherever they run: here at once, elsewhere by signal."""
        self.stop_here(conversation_id)
        await self._signals.send(conversation_id)

    def stop_here(self, conversation_id: uuid.UUID) -> None:
        for turn in list(self._turns.get(conversation_id, ())):
            turn.stop()
