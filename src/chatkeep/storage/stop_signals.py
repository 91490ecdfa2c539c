"""Stop signals for running turns, from one replica to the others through Redis.

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
_SUBSCRIBE_WAIT_SECONDS = 2.0


class StopSignals(Protocol):
    """Sends stop signals and hands the received ones to a receiver."""

    async def start(self, receiver: Receiver) -> None:
        """Begin delivering signals (from any replica) to `receiver`."""
        ...

    async def send(self, conversation_id: uuid.UUID) -> None:
        """Signal the other replicas to stop their turns of the conversation (receiving it here too is
        harmless: stopping is idempotent)."""
        ...

    async def aclose(self) -> None: ...


class InProcessSignals:
    """No other replica to reach: right for one server process."""

    async def start(self, receiver: Receiver) -> None:
        pass

    async def send(self, conversation_id: uuid.UUID) -> None:
        pass

    async def aclose(self) -> None:
        pass


class RedisSignals:
    """Signals published on one Redis channel that every replica listens to."""

    def __init__(self, url: str, *, prefix: str) -> None:
        self._redis = Redis.from_url(url)
        self._channel = f"{prefix}:stop-turn"
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self, receiver: Receiver) -> None:
        """Listen in the background; wait a moment for the subscription, so that signals sent right
        after start are not missed, but never hold up a start while Redis is unreachable."""
        self._listener = asyncio.create_task(self._listen(receiver))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), _SUBSCRIBE_WAIT_SECONDS)

    async def _listen(self, receiver: Receiver) -> None:
        """Subscribe and hand on what arrives; while Redis is unreachable, warn once and keep trying."""
        warned = False
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self._subscribed.set()
                warned = False
                async for message in pubsub.listen():
                    with contextlib.suppress(ValueError, TypeError):
                        receiver(uuid.UUID(bytes(message["data"]).decode()))
            except (RedisError, OSError) as exc:
                self._subscribed.clear()
                if not warned:
                    log.warning("stop signals: Redis unavailable (%r); stops reach this replica only", exc)
                    warned = True
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()

    async def send(self, conversation_id: uuid.UUID) -> None:
        try:
            await self._redis.publish(self._channel, str(conversation_id))
        except (RedisError, OSError) as exc:  # Redis down: only this replica's turns were stopped
            log.warning("stop signals: cannot publish (%r); stopped local turns only", exc)

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()


def open_signals(redis_url: str | None, *, prefix: str) -> StopSignals:
    """Redis-backed signals when a URL is configured, else in-process ones."""
    return RedisSignals(redis_url, prefix=prefix) if redis_url else InProcessSignals()
