"""Fixtures for provider tests: one embedded model for the whole session (loading takes ~0.5 s)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatkeep.providers.embedded import EmbeddedProvider, bundled_model_path


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    return bundled_model_path()


@pytest.fixture(scope="session")
async def embedded(gguf_path: Path) -> AsyncIterator[EmbeddedProvider]:
    """The embedded provider, shared: its model loads once on first use."""
    provider = EmbeddedProvider(gguf_path, context=2048)
    yield provider
    await provider.aclose()
