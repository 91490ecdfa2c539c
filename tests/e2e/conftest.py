"""End-to-end fixtures: a real `chatkeep serve` (models from the mock upstream) and Debian's chromium driven
by Playwright. Chromium is required: without it these tests fail with how to install it, never skip."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chatkeep.storage.database import Database
from chatkeep.storage.migrate import migrate
from tests.reliability.upstream import MockUpstreamProcess
from tests.support import LiveServer, Tenant, make_tenant

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHATKEEP_E2E_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("CHATKEEP_E2E_ARTIFACTS", REPO / "tmp" / "artifacts"))
# A model name that tries to inject markup: the picker must show it as text.
EVIL_NAME = "<img src=x onerror=alert(1)>Evil"


def _models_yaml(upstream_url: str) -> str:
    return "\n".join(
        [
            "embedded: false",
            "default_model: mock-fast",
            "providers:",
            f'  mock: {{type: openai, base_url: "{upstream_url}/v1", max_retries: 0}}',
            "models:",
            '  - {id: mock-fast, name: "Mock (fast)", provider: mock,'
            ' upstream_model: "stream:deltas=12,interval=0.08",'
            " capabilities: [text, streaming, image, document]}",
            '  - {id: mock-slow, name: "Mock (slow)", provider: mock,'
            ' upstream_model: "stream:deltas=400,interval=0.05"}',
            f'  - {{id: mock-evil, name: "{EVIL_NAME}", provider: mock, upstream_model: "stream:deltas=2"}}',
            "",
        ]
    )


@dataclass
class Console:
    """The server under test, its mock upstream, and an organisation with tokens."""

    url: str
    upstream: MockUpstreamProcess
    tenant: Tenant


@pytest.fixture(scope="session")
async def console(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Console]:
    workdir = tmp_path_factory.mktemp("e2e")
    upstream = MockUpstreamProcess(workdir / "upstream.log")
    try:  # the upstream process is stopped however the set-up below ends
        models = workdir / "models.yaml"
        models.write_text(_models_yaml(upstream.url))
        database_url = f"sqlite+aiosqlite:///{workdir / 'console.db'}"
        db = Database(database_url)
        try:
            await migrate(db)
            tenant = await make_tenant(db, members=1)
        finally:
            await db.dispose()
        server = LiveServer(
            database_url,
            workdir / "server.log",
            extra_env={"CHATKEEP_MODELS_FILE": str(models), "CHATKEEP_PURGE_INTERVAL_SECONDS": "3600"},
        )
        try:
            yield Console(url=server.url, upstream=upstream, tenant=tenant)
        finally:
            server.stop()
    finally:
        upstream.stop()


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install -y chromium); "
            "`make test` and .ci/run install it when missing"
        )
    try:
        from playwright.async_api import async_playwright
    except ImportError:  # pragma: no cover - the [test] extra installs it
        pytest.fail("the playwright package is missing: pip install -e '.[test]'")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once per run, before any page
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            await browser.close()


class Problems:
    """Console errors, uncaught exceptions and dialogs (an injected alert) a page produced."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.expected: list[str] = []

    def expect(self, text: str) -> None:
        """One problem this test causes on purpose (a refused request's status shows as a console error)."""
        self.expected.append(text)

    def unexpected(self) -> list[str]:
        left = list(self.items)
        for text in self.expected:
            match = next((item for item in left if text in item), None)
            assert match is not None, f"expected a console error containing {text!r}, got {self.items}"
            left.remove(match)
        return left

    def watch(self, page: Any) -> None:
        page.on(
            "console",
            lambda message: (
                self.items.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: self.items.append(f"page error: {error}"))

        async def dialog(d: Any) -> None:
            self.items.append(f"dialog: {d.message}")
            await d.dismiss()

        page.on("dialog", dialog)


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.fixture
async def open_page(
    chromium: Any, console: Console, problems: Problems
) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """`await open_page(width, height)`: a fresh browser context's page, watched for console errors."""
    contexts: list[Any] = []

    async def opener(width: int = 1280, height: int = 860) -> Any:
        context = await chromium.new_context(
            viewport={"width": width, "height": height}, base_url=console.url
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = await context.new_page()
        problems.watch(page)
        return page

    yield opener
    for context in contexts:
        await context.close()
    assert problems.unexpected() == [], problems.items


async def shot(page: Any, name: str) -> None:
    """Save a full-page screenshot to the artifacts directory (not committed)."""
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
