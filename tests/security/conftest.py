"""Fixtures of the security tests: the scripted app served over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatkeep.storage.database import Database
from tests.security.fuzzing import FuzzWorld, seed_world
from tests.security.served_app import ServedApp, scripted_settings


@pytest.fixture(scope="session")
def served_app(
    database_url: str, db: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedApp]:
    """The scripted app (no real model) behind uvicorn on 127.0.0.1, on the session's database."""
    app = ServedApp(scripted_settings(database_url, tmp_path_factory.mktemp("served")))
    app.start()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="session")
async def fuzz_world(db: Database) -> FuzzWorld:
    """The tenants and seeded rows the fuzzer acts on (see tests/security/fuzzing.py)."""
    return await seed_world(db)
