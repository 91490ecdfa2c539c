"""Token secrets never reach the database: every table, dumped whole, holds only their digests."""

from __future__ import annotations

from chatkeep.core.api_tokens import hash_secret
from chatkeep.storage.database import Database
from tests.leak_probe import dump_database
from tests.support import Tenant


async def test_no_table_holds_a_token_secret(db: Database, tenant: Tenant) -> None:
    dump = await dump_database(db)
    secrets = [tenant.admin, tenant.service, *tenant.members.values()]
    assert all(hash_secret(secret) in dump for secret in secrets), "the dump covers the token table"
    assert [secret for secret in secrets if secret in dump] == []
    assert [secret for secret in secrets if secret[3:] in dump] == [], "not even without the ck_ prefix"
