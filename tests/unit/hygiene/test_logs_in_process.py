"""With every logger at DEBUG, no message content, guard match or token secret reaches a log record,
unless CHATKEEP_LOG_CONTENT is set."""

from __future__ import annotations

import logging

import pytest

from chatkeep.storage.database import Database
from tests.leak_probe import EXPECTED, Probe, exercise, refuse_inserts_containing
from tests.support import Tenant
from tests.unit.hygiene.conftest import MODEL_ID, AppClient


def debug_everything(caplog: pytest.LogCaptureFixture) -> None:
    """Root and every logger that exists (SQLAlchemy, aiosqlite, asyncpg, httpx, uvicorn…) at DEBUG."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)


async def test_no_content_and_no_secret_in_any_log_record_by_default(
    app_client: AppClient,
    db: Database,
    tenant: Tenant,
    other_tenant: Tenant,
    caplog: pytest.LogCaptureFixture,
) -> None:
    probe = Probe()
    client = await app_client()
    async with refuse_inserts_containing(db, probe.fail_marker):
        debug_everything(caplog)  # after creating the trigger, whose own SQL holds the marker
        statuses = await exercise(client, probe, tenant, other_tenant, model=MODEL_ID)
    assert statuses == EXPECTED
    logged = caplog.text
    # The capture works: SQL was logged, and so was the 500 with its database error.
    assert "INSERT INTO messages" in logged and "SELECT" in logged
    assert "unhandled error on POST" in logged and "refused by test trigger" in logged
    assert "SQL parameters hidden" in logged
    assert probe.marker not in logged and probe.fail_marker not in logged
    assert [s for s in probe.secrets_of(tenant, other_tenant) if s in logged] == []


async def test_log_content_lets_content_into_sql_logs(
    app_client: AppClient,
    db: Database,
    tenant: Tenant,
    other_tenant: Tenant,
    caplog: pytest.LogCaptureFixture,
) -> None:
    probe = Probe()
    client = await app_client(log_content=True)
    async with refuse_inserts_containing(db, probe.fail_marker):
        debug_everything(caplog)  # after creating the trigger, whose own SQL holds the marker
        statuses = await exercise(client, probe, tenant, other_tenant, model=MODEL_ID)
    assert statuses == EXPECTED
    logged = caplog.text
    assert probe.marker in logged and probe.fail_marker in logged
    errors = [r for r in caplog.records if r.getMessage().startswith("unhandled error")]
    # The refused INSERT's error names its parameters (SQLAlchemy shortens a long row from the middle).
    assert errors and errors[0].exc_info
    refused = logging.Formatter().formatException(errors[0].exc_info)
    assert "refused by test trigger" in refused and "[parameters: " in refused
    assert "parameters hidden" not in refused
    # Secrets are never content: only their digests are in the database, so not even SQL logs hold them.
    assert [s for s in probe.secrets_of(tenant, other_tenant) if s in logged] == []
