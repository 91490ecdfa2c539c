"""KeyedLocks: writers to the same key take turns in arrival order; other keys do not wait."""

from __future__ import annotations

import asyncio

import pytest

from chatkeep.storage.keyed_locks import KeyedLocks


async def test_same_key_takes_turns_in_arrival_order() -> None:
    locks = KeyedLocks()
    order: list[int] = []
    inside = 0

    async def writer(index: int) -> None:
        nonlocal inside
        async with locks.hold("conversation"):
            inside += 1
            assert inside == 1, "two holders of one key at once"
            await asyncio.sleep(0)
            order.append(index)
            inside -= 1

    await asyncio.gather(*(writer(i) for i in range(20)))
    assert order == list(range(20))
    assert len(locks) == 0


async def test_other_keys_and_no_key_do_not_wait() -> None:
    locks = KeyedLocks()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.hold("a"):
            await release.wait()

    held = asyncio.create_task(holder())
    await asyncio.sleep(0)
    async with asyncio.timeout(1):
        async with locks.hold("b"):
            pass
        async with locks.hold(None):
            pass
    assert len(locks) == 1
    release.set()
    await held
    assert len(locks) == 0


async def test_a_failed_or_cancelled_holder_releases_its_key() -> None:
    locks = KeyedLocks()
    with pytest.raises(RuntimeError):
        async with locks.hold("k"):
            raise RuntimeError("boom")
    started = asyncio.Event()

    async def stuck() -> None:
        async with locks.hold("k"):
            started.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await started.wait()
    waiter = asyncio.create_task(_hold_once(locks, "k"))
    await asyncio.sleep(0)
    task.cancel()
    async with asyncio.timeout(1):
        await waiter
    assert len(locks) == 0


async def _hold_once(locks: KeyedLocks, key: str) -> None:
    async with locks.hold(key):
        pass
