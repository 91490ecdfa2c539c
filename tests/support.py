"""Test helpers shared by unit and integration tests: tenants with tokens, free ports, live servers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from chatkeep.core import api_tokens, organisations
from chatkeep.core.principals import Role
from chatkeep.storage.database import Database


@dataclass
class Tenant:
    """An organisation with one token per role; `members` maps user id → secret."""

    name: str
    admin: str
    service: str
    members: dict[str, str] = field(default_factory=dict)

    @property
    def member(self) -> str:
        return next(iter(self.members.values()))

    def member_user(self, index: int = 0) -> str:
        return list(self.members)[index]


async def make_tenant(db: Database, *, members: int = 2) -> Tenant:
    """A fresh organisation (random name) with admin, service and member tokens."""
    name = f"org-{uuid.uuid4().hex[:10]}"
    async with db.write() as session:
        org = await organisations.create(session, name=name)
        admin = await api_tokens.create(session, org=org, user_id="admin", role=Role.ADMIN)
        service = await api_tokens.create(session, org=org, user_id="service", role=Role.SERVICE)
        tenant = Tenant(name=name, admin=admin.secret, service=service.secret)
        for i in range(members):
            user = f"user-{i}-{uuid.uuid4().hex[:6]}"
            tenant.members[user] = (
                await api_tokens.create(session, org=org, user_id=user, role=Role.MEMBER)
            ).secret
    return tenant


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """`chatkeep serve` in a subprocess on 127.0.0.1, as a user would run it."""

    def __init__(self, database_url: str, log_path: Path, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "CHATKEEP_DATABASE_URL": database_url,
            "CHATKEEP_BOOTSTRAP": "false",
            "CHATKEEP_LOG_LEVEL": "warning",
            "CHATKEEP_DB_POOL_SIZE": "4",  # test servers share PostgreSQL's 100 connections
            "CHATKEEP_DB_MAX_OVERFLOW": "4",
            **(extra_env or {}),
        }
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chatkeep", "serve", "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready(log_path)

    def _wait_ready(self, log_path: Path, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chatkeep exited early:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"chatkeep did not become ready:\n{log_path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def parse_sse(body: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(id, event, data) for every event; every data line must be one JSON object."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
        if "data" in fields:
            events.append((fields.get("id", ""), fields.get("event", "message"), json.loads(fields["data"])))
    return events
