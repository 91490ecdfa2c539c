"""A real `chatkeep serve` at its most verbose, and the CLI: their output holds no token secret, no
Authorization value, no database password and no message content."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from chatkeep.providers.embedded import EMBEDDED_MODEL_ID
from chatkeep.storage.database import Database
from tests.leak_probe import EXPECTED, Probe, dump_database, exercise, refuse_inserts_containing
from tests.support import LiveServer, Tenant

pytestmark = pytest.mark.integration


def chatkeep(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATKEEP_")}
    env["CHATKEEP_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "chatkeep", *args], env=env, capture_output=True, text=True, timeout=60
    )


def with_password(database_url: str, password: str) -> str:
    """PostgreSQL here trusts local connections, so a password in the URL is accepted and ignored."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return database_url
    return url.set(password=password).render_as_string(hide_password=False)


async def test_server_log_and_cli_output_hold_no_secret_and_no_content(
    database_url: str, db: Database, tenant: Tenant, other_tenant: Tenant, tmp_path: Path
) -> None:
    probe = Probe()
    created = chatkeep(database_url, "token", "create", "--org", tenant.name, "--role", "service")
    assert created.returncode == 0, created.stdout + created.stderr
    cli_secret = created.stdout.strip().splitlines()[-1]
    assert cli_secret.startswith("ck_") and created.stdout.count(cli_secret) == 1
    assert cli_secret not in created.stderr
    probe.extra_secrets.append(cli_secret)
    password = f"pw{probe.marker}"

    log_path = tmp_path / "server.log"
    extra = {"CHATKEEP_LOG_LEVEL": "trace", "CHATKEEP_DATABASE_URL": with_password(database_url, password)}
    server = LiveServer(database_url, log_path, extra)
    try:
        async with (
            refuse_inserts_containing(db, probe.fail_marker),
            httpx.AsyncClient(base_url=server.url, timeout=120) as client,
        ):
            statuses = await exercise(
                client, probe, tenant, other_tenant, model=EMBEDDED_MODEL_ID, service_secret=cli_secret
            )
    finally:
        server.stop()
    log = log_path.read_text(errors="replace")

    assert statuses == EXPECTED
    assert "POST /api/chat/stream/ HTTP/1.1" in log, "the access log was written"
    assert "refused by test trigger" in log, "the 500's traceback was written"
    assert [s for s in probe.secrets_of(tenant, other_tenant) if s in log] == []
    assert "Bearer ck_" not in log and "Token ck_" not in log
    assert probe.marker not in log and probe.fail_marker not in log and password not in log
    assert cli_secret not in await dump_database(db), "the CLI stores only the digest"
