"""Fixtures for provider tests: one embedded model for the whole session (loading takes ~0.5 s)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatkeep.providers.embedded import EmbeddedProvider, bundled_model_path

CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
)


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    return bundled_model_path()


@pytest.fixture(scope="session")
async def embedded(gguf_path: Path) -> AsyncIterator[EmbeddedProvider]:
    """The embedded provider, shared: its model loads once on first use."""
    provider = EmbeddedProvider(gguf_path, context=2048)
    yield provider
    await provider.aclose()


@pytest.fixture(autouse=True)
def no_provider_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test without cloud credentials, so the built-in catalogue lists only what a test sets."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
