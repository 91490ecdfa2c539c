"""Crash safety: SIGKILL a live `chatkeep serve` mid-stream and start it again on the same database.

Committed turns survive. The interrupted answer was checkpointed while it streamed; the restarted server
finds its process dead (same host, pid gone) and settles it at once: the checkpointed text, `failed`, and
a usage row for what was generated. Answers without a runner (older rows) still fall to the age-based
sweep after CHATKEEP_STALE_TURN_SECONDS, which must exceed the longest a model call may run.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from chatkeep.core import conversations, housekeeping, replicas
from chatkeep.core.api_tokens import authenticate
from chatkeep.core.turns.recovery import settle_orphans
from chatkeep.providers.base import ModelInfo
from chatkeep.providers.registry import ModelRegistry
from chatkeep.settings import Settings
from chatkeep.storage.database import Database
from chatkeep.storage.migrate import migrate
from chatkeep.storage.models import REPLICAS, Message, UsageRecord
from chatkeep.storage.types import utcnow
from tests.fakes import ScriptedProvider
from tests.reliability.conftest import Figures, upstream_env
from tests.reliability.upstream import MockUpstreamProcess
from tests.reliability.wire import (
    ai,
    bearer,
    chat,
    chat_body,
    create_session,
    eventually,
    marker,
    session_messages,
)
from tests.support import LiveServer, Tenant, make_tenant

pytestmark = pytest.mark.integration

PROVIDER_TIMEOUT = 5
STALE_AFTER = 6
NORMAL_ANSWER = "w0 w1 w2 w3 w4 "


def _crash_env(models_file: Path) -> dict[str, str]:
    return upstream_env(
        models_file,
        CHATKEEP_FIRST_TOKEN_TIMEOUT_SECONDS="4",  # the first call also imports the SDK
        CHATKEEP_PROVIDER_TIMEOUT_SECONDS=str(PROVIDER_TIMEOUT),
        CHATKEEP_STALE_TURN_SECONDS=str(STALE_AFTER),
        CHATKEEP_PURGE_INTERVAL_SECONDS="0.25",
    )


async def _status(db: Database, message_id: str) -> str:
    async with db.read() as session:
        row = await session.get(Message, uuid.UUID(message_id))
        assert row is not None
        return row.status


async def _start_interrupted_turn(
    server: LiveServer, tenant: Tenant, sid: str, word: str, *, deltas_to_read: int = 30
) -> tuple[str, str]:
    """Stream a slow answer, read some deltas (30: 1.5 s, past the first checkpoint), SIGKILL the server;
    returns the answer row's id and the text the client received."""
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=30) as http,
        http.stream(
            "POST",
            f"{ai(tenant)}/chat/stream",
            json=chat_body("mock-slow", word, sid),
            headers=bearer(tenant.service),
        ) as response,
    ):
        # Read with anext, not a loop we break out of: an abandoned line iterator is finalised, and that
        # closes the connection (a client disconnect, not the crash we want).
        lines = response.aiter_lines()
        received: list[str] = []
        while len(received) < deltas_to_read:
            line = await anext(lines)
            if line.startswith("data: ") and '"delta"' in line:
                received.append(json.loads(line[6:])["delta"])
        # The answer's row id is not in the Quant stream; it is the newest message of the session.
        messages = await session_messages(http, tenant, sid)
        assert messages[-1]["role"] == "assistant" and messages[-1]["status"] == "in_progress"
        server.process.kill()  # SIGKILL, mid-stream, with the client still reading
        server.process.wait()
        return str(messages[-1]["id"]), "".join(received)


async def test_sigkill_mid_stream_then_restart_recovers(
    fresh_database_url: str,
    models_file: Path,
    mock_upstream: MockUpstreamProcess,
    tmp_path: Path,
    figures: Figures,
) -> None:
    db = Database(fresh_database_url)
    try:
        await migrate(db)
        tenant = await make_tenant(db)
        # A cutoff far beyond the test: the answer must be settled because its process is dead, not old.
        env = {**_crash_env(models_file), "CHATKEEP_STALE_TURN_SECONDS": "600"}
        first = await asyncio.to_thread(LiveServer, fresh_database_url, tmp_path / "first.log", env)
        try:
            async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
                sid = await create_session(http, tenant)
                earlier = [marker(), marker()]
                for word in earlier:
                    assert (await chat(http, tenant, "mock-stream", word, sid)).status_code == 200
            word = marker()
            answer_id, received = await _start_interrupted_turn(first, tenant, sid, word)
            crash = Crash(sid, earlier, word, answer_id, received, killed_at=time.monotonic())
        finally:
            first.stop()
        assert await _status(db, answer_id) == "in_progress"

        async def upstream_saw_the_caller_go() -> bool:
            # The kernel closes a killed process's sockets.
            (call,) = await mock_upstream.requests(word)
            return call["disconnected_at"] is not None and call["finished_at"] is None

        await eventually(upstream_saw_the_caller_go)
        second = await asyncio.to_thread(LiveServer, fresh_database_url, tmp_path / "second.log", env)
        try:
            ready_after, recovered_after = await _check_recovery(second, db, tenant, crash)
        finally:
            second.stop()
    finally:
        await db.dispose()
    figures.record("restart after SIGKILL: ready again after", ready_after, "s")
    figures.record("restart after SIGKILL: interrupted turn settled after", recovered_after, "s")


async def _usage_statuses(db: Database, sid: str) -> dict[str, tuple[int, int]]:
    """(rows, output tokens) of a conversation's usage rows, by status."""
    async with db.read() as session:
        rows = await session.execute(
            select(UsageRecord.status, func.count(), func.sum(UsageRecord.output_tokens))
            .where(UsageRecord.conversation_id == uuid.UUID(sid))
            .group_by(UsageRecord.status)
        )
        return {status: (int(n), int(tokens or 0)) for status, n, tokens in rows}


@dataclass(frozen=True)
class Crash:
    """What was committed before the SIGKILL, and the answer that was streaming when it came."""

    sid: str
    earlier: list[str]  # user messages of the turns that completed
    word: str  # the interrupted turn's user message
    answer_id: str
    received: str  # what the client had received of the interrupted answer
    killed_at: float


async def _check_recovery(
    server: LiveServer, db: Database, tenant: Tenant, crash: Crash
) -> tuple[float, float]:
    """Recovery on the restarted server; returns (ready after, interrupted answer failed after) the kill."""
    sid, earlier, word, answer_id = crash.sid, crash.earlier, crash.word, crash.answer_id
    ready_after = time.monotonic() - crash.killed_at

    async def failed() -> bool:
        return await _status(db, answer_id) == "failed"

    # Settled when the restarted server came up, long before the stale-turn cutoff.
    assert await failed(), "the dead process's answer was not settled at start"
    recovered_after = time.monotonic() - crash.killed_at
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        messages = await session_messages(http, tenant, sid)
        kept = messages[-1]["content"]
        assert [(m["role"], m["content"], m["status"]) for m in messages] == [
            ("user", earlier[0], "complete"),
            ("assistant", NORMAL_ANSWER, "complete"),
            ("user", earlier[1], "complete"),
            ("assistant", NORMAL_ANSWER, "complete"),
            ("user", word, "complete"),
            ("assistant", kept, "failed"),
        ]
        # The checkpoint: at most a second behind what the client saw, never ahead of it.
        assert kept and crash.received.startswith(kept), (kept, crash.received)
        usage = await http.get(f"{ai(tenant)}/usage", headers=bearer(tenant.admin))
        totals = usage.json()["totals"]
        assert totals["requests"] == 3  # the interrupted call is accounted too
        by_status = await _usage_statuses(db, sid)
        assert by_status["failed"][1] > 0  # output tokens for what was generated before the crash
        # The conversation goes on.
        after = await chat(http, tenant, "mock-stream", marker(), sid)
        assert after.status_code == 200 and after.json()["response"]["content"] == NORMAL_ANSWER
        assert [m["sequenceIndex"] for m in await session_messages(http, tenant, sid)] == list(range(1, 9))
    return ready_after, recovered_after


async def test_recovery_fails_only_turns_older_than_the_cutoff(fresh_database_url: str) -> None:
    """A turn still streaming on another replica is younger than the cutoff and is left alone."""
    db = Database(fresh_database_url)
    await migrate(db)
    try:
        tenant = await make_tenant(db)
        crashed, live = ids = await _two_in_progress_answers(db, tenant.service)
        async with db.write() as session:
            # The crashed replica's row started well before the cutoff; the live one just now.
            await session.execute(
                update(Message)
                .where(Message.id == crashed)
                .values(created_at=utcnow() - timedelta(seconds=300))
            )
        assert await housekeeping.fail_stale_turns(db, older_than=timedelta(seconds=180)) == 1
        async with db.read() as session:
            query = select(Message.id, Message.status).where(Message.id.in_(ids))
            statuses = {row.id: row.status for row in await session.execute(query)}
        assert statuses == {crashed: "failed", live: "in_progress"}
    finally:
        await db.dispose()


async def _two_in_progress_answers(db: Database, service: str) -> list[uuid.UUID]:
    """Two reserved answers, as `prepare` leaves them while a model runs."""
    answers = []
    async with db.write() as session:
        principal = (await authenticate(session, secret=service)).principal
        for _ in range(2):
            conversation = await conversations.create(session, principal=principal, user_id="alice")
            _, answer = await conversations.append_messages(
                session,
                conversation=conversation,
                messages=[
                    conversations.NewMessage(role="user", content="hi"),
                    conversations.NewMessage(role="assistant", content="", status="in_progress"),
                ],
            )
            answers.append(answer.id)
    return answers


def test_a_cutoff_shorter_than_a_model_call_is_refused() -> None:
    with pytest.raises(ValueError, match="stale_turn_seconds must be greater"):
        Settings(provider_timeout_seconds=120, stale_turn_seconds=60)
    assert Settings(provider_timeout_seconds=120).resolved_stale_turn_seconds() == 180


async def test_a_restart_never_settles_a_turn_another_live_replica_runs(
    fresh_database_url: str, models_file: Path, tmp_path: Path
) -> None:
    """Replica A streams; replica B starts (and recovers) meanwhile: A's turn runs on and completes."""
    db = Database(fresh_database_url)
    try:
        await migrate(db)
        tenant = await make_tenant(db)
        env = upstream_env(
            models_file,
            CHATKEEP_FIRST_TOKEN_TIMEOUT_SECONDS="20",
            CHATKEEP_PROVIDER_TIMEOUT_SECONDS="60",
            CHATKEEP_HEARTBEAT_SECONDS="0.2",
            CHATKEEP_REPLICA_LEASE_SECONDS="1",
        )
        first = await asyncio.to_thread(LiveServer, fresh_database_url, tmp_path / "a.log", env)
        try:
            async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
                sid = await create_session(http, tenant)
                assert (await chat(http, tenant, "mock-stream", marker(), sid)).status_code == 200  # warm
                body = chat_body("mock-slow", marker(), sid)  # 20 s of deltas
                async with http.stream(
                    "POST", f"{ai(tenant)}/chat/stream", json=body, headers=bearer(tenant.service)
                ) as response:
                    lines = response.aiter_lines()
                    assert await anext(lines)  # A is streaming
                    second = await asyncio.to_thread(LiveServer, fresh_database_url, tmp_path / "b.log", env)
                    try:
                        await asyncio.sleep(1.5)  # several heartbeats and recovery rounds of B
                        rest = [line async for line in lines]
                    finally:
                        second.stop()
                assert "event: done" in rest
                assert rest.count("event: content") > 10  # A was still streaming once B had recovered
                messages = await session_messages(http, tenant, sid)
                assert messages[-1]["status"] == "complete"
                assert messages[-1]["content"] == "".join(f"w{i} " for i in range(400))
        finally:
            first.stop()
    finally:
        await db.dispose()


async def test_only_dead_processes_turns_are_recovered(fresh_database_url: str) -> None:
    """A process on another host is dead only past its lease; on this host, as soon as its pid is gone."""
    db = Database(fresh_database_url)
    await migrate(db)
    model = ModelInfo(id="other", provider="scripted", upstream_model="x")
    registry = ModelRegistry([model], {"scripted": ScriptedProvider()})
    here = replicas.ProcessIdentity.current()
    try:
        tenant = await make_tenant(db)
        answers = await _two_in_progress_answers(db, tenant.service)
        answers += await _two_in_progress_answers(db, tenant.service)
        runners = {
            "far-fresh": ("elsewhere", 1, utcnow()),  # another host, heartbeat now: alive
            "far-stale": ("elsewhere", 1, utcnow() - timedelta(seconds=60)),  # lease run out: dead
            # This host, a running pid: alive, even with a heartbeat long past the lease.
            "near-live": (here.host, os.getppid(), utcnow() - timedelta(seconds=600)),
            "near-dead": (here.host, _a_finished_pid(), utcnow()),  # this host, pid gone: dead at once
        }
        async with db.write() as session:
            for (runner, (host, pid, beat)), answer in zip(runners.items(), answers, strict=True):
                await session.execute(
                    REPLICAS.insert().values(
                        id=runner, host=host, pid=pid, process_start="", started_at=beat, heartbeat_at=beat
                    )
                )
                await session.execute(
                    update(Message).where(Message.id == answer).values(runner_id=runner, content="partial")
                )
        settled = await settle_orphans(db, registry, here=here, lease=timedelta(seconds=30))
        assert settled == 2
        async with db.read() as session:
            query = select(Message.id, Message.status).where(Message.id.in_(answers))
            statuses = {row.id: row.status for row in await session.execute(query)}
            left = set((await session.execute(select(REPLICAS.c.id))).scalars())
        assert [statuses[a] for a in answers] == ["in_progress", "failed", "in_progress", "failed"]
        assert left == {"far-fresh", "near-live"}
    finally:
        await db.dispose()


def _a_finished_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid
