"""Stop signals for running turns: delivered in this process, or through Redis to every replica.

A signal only names a conversation; whoever runs a turn of it stops that turn. Delivery is best effort:
a replica that is down has no turn to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("chatkeep.stop_signals")
Receiver = Callable[[uuid.UUID], None]


class StopSignals(Protocol):
    """Sends stop signals and hands the received ones to a receiver."""

    async def start(self, receiver: Receiver) -> None:
        """Begin delivering signals (from any replica) to `receiver`."""
        ...

    async def send(self, conversation_id: uuid.UUID) -> None:
        """Signal every replica (this one included) to stop its turns of the conversation."""
        ...

    async def aclose(self) -> None: ...


class InProcessSignals:
    """Signals reach this process only: right for one server process."""

    def __init__(self) -> None:
        self._receiver: Receiver | None = None

    async def start(self, receiver: Receiver) -> None:
        self._receiver = receiver

    async def send(self, conversation_id: uuid.UUID) -> None:
        if self._receiver is not None:
            self._receiver(conversation_id)

    async def aclose(self) -> None:
        self._receiver = None


class RedisSignals:
    """Signals published on one Redis channel that every replica listens to."""

    def __init__(self, url: str, *, prefix: str) -> None:
        self._redis = Redis.from_url(url)
        self._channel = f"{prefix}:stop-turn"
        self._listener: asyncio.Task[None] | None = None
        self._local: Receiver | None = None

    async def start(self, receiver: Receiver) -> None:
        self._local = receiver
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._channel)
        self._listener = asyncio.create_task(self._listen(pubsub, receiver))

    async def _listen(self, pubsub: object, receiver: Receiver) -> None:
        while True:
            try:
                async for message in pubsub.listen():  # type: ignore[attr-defined]
                    with contextlib.suppress(ValueError, TypeError):
                        receiver(uuid.UUID(bytes(message["data"]).decode()))
            except asyncio.CancelledError:
                raise
            except RedisError as exc:  # a lost connection: listen again after a pause
                log.warning("stop signals: Redis unavailable (%r); retrying", exc)
                await asyncio.sleep(1)

    async def send(self, conversation_id: uuid.UUID) -> None:
        try:
            await self._redis.publish(self._channel, str(conversation_id))
        except RedisError as exc:
            # Redis down: still stop what runs here, so the caller's own replica honours the request.
            log.warning("stop signals: cannot publish (%r); stopping local turns only", exc)
            if self._local is not None:
                self._local(conversation_id)

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()


def open_signals(redis_url: str | None, *, prefix: str) -> StopSignals:
    """Redis-backed signals when a URL is configured, else in-process ones."""
    return RedisSignals(redis_url, prefix=prefix) if redis_url else InProcessSignals()
