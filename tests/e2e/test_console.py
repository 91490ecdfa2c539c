"""The console in a real browser: sign in, chat with streamed answers, stop, edit, regenerate, versions,
archive, safety flags, usage charts and tokens, by keyboard and on a phone-sized screen."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import EVIL_NAME, Console, Problems, shot

pytestmark = pytest.mark.e2e
CHAT_URL = re.compile(r".*/console/chats/[0-9a-f-]{36}.*")


async def sign_in(page: Any, secret: str) -> None:
    await page.goto("/console/")
    await page.get_by_label("API token").fill(secret)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/console/")


async def send(page: Any, text: str, model: str | None = None) -> None:
    if model:
        await page.get_by_label("Model").select_option(model)
    await page.get_by_label("Message", exact=True).fill(text)
    await page.get_by_role("button", name="Send").click()


async def upstream_requests(console: Console, marker: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(f"{console.upstream.url}/_mock/requests", params={"marker": marker})
    rows: list[dict[str, Any]] = response.json()
    return rows


async def test_sign_in_and_chat_with_a_streamed_answer(open_page: Any, console: Console) -> None:
    page = await open_page()
    await page.goto("/console/sign-in")
    await shot(page, "01-sign-in")
    await sign_in(page, console.tenant.member)
    await send(page, "Hello *console*", model="mock-fast")
    live = page.locator(".message.live .content").last
    # Part of the answer is on screen while the model is still writing, with the stop button offered.
    await live.filter(has_text="w1").wait_for()
    assert await page.get_by_role("button", name="Stop").is_visible()
    assert "w11" not in await live.inner_text()
    await page.wait_for_url(CHAT_URL)
    answer = page.locator(".message.role-assistant .content").last
    text = await answer.inner_text()
    assert text.strip().startswith("w0 w1 w2") and "w11" in text
    assert await page.locator(".message.role-user em").inner_text() == "console"  # markdown, server-side
    await shot(page, "02-chat")


async def test_stop_cancels_the_model_call(open_page: Any, console: Console) -> None:
    page = await open_page()
    await sign_in(page, console.tenant.member)
    marker = f"stop-{uuid.uuid4().hex[:8]}"
    await send(page, marker, model="mock-slow")
    await page.locator(".message.live .content").last.filter(has_text="w3").wait_for()
    # Stop asks the server to stop the turn (wherever it runs); the stream then ends by itself.
    async with page.expect_response(lambda r: r.url.endswith("/stop")) as stopping:
        await page.get_by_role("button", name="Stop").click()
    assert (await stopping.value).status == 204
    await page.wait_for_url(CHAT_URL)
    await page.reload()
    assert await page.locator(".message.role-assistant .badge", has_text="stopped").is_visible()
    kept = await page.locator(".message.role-assistant .content").last.inner_text()
    assert kept.startswith("w0 w1 w2 w3") and "w399" not in kept
    # The upstream saw chatkeep hang up: the model call itself was cancelled.
    deadline = time.monotonic() + 5
    rows = await upstream_requests(console, marker)
    while time.monotonic() < deadline and not (rows and rows[0]["disconnected_at"] is not None):
        await asyncio.sleep(0.1)
        rows = await upstream_requests(console, marker)
    assert rows and rows[0]["disconnected_at"] is not None and rows[0]["deltas_sent"] < 400, rows
    await shot(page, "03-stopped")


async def test_regenerate_edit_and_switch_versions(open_page: Any, console: Console) -> None:
    page = await open_page()
    await sign_in(page, console.tenant.member)
    await send(page, "Version one", model="mock-fast")
    await page.wait_for_url(CHAT_URL)
    await page.get_by_role("button", name="Regenerate").click()
    await page.locator(".version-count", has_text="2/2").wait_for()
    await page.get_by_role("button", name="Previous version").click()
    await page.locator(".version-count", has_text="1/2").wait_for()
    await page.get_by_role("button", name="Next version").click()
    await page.locator(".version-count", has_text="2/2").wait_for()
    # Edit the question: a second version of it, with its own answer.
    await page.locator(".message.role-user summary", has_text="Edit").click()
    await page.get_by_label("Edited message").fill("Version two")
    await page.get_by_role("button", name="Save and send").click()
    await page.locator(".message.role-user .content", has_text="Version two").wait_for()
    await page.wait_for_load_state()
    user = page.locator(".message.role-user").first
    assert await user.locator(".version-count").inner_text() == "2/2"
    await user.get_by_role("button", name="Previous version").click()
    await page.locator(".message.role-user .content", has_text="Version one").wait_for()
    await shot(page, "04-versions")


async def test_archive_and_unarchive(open_page: Any, console: Console) -> None:
    page = await open_page()
    await sign_in(page, console.tenant.member)
    await send(page, "Archive this chat", model="mock-fast")
    await page.wait_for_url(CHAT_URL)
    await page.get_by_role("button", name="Archive", exact=True).click()
    await page.get_by_role("button", name="Unarchive").wait_for()
    await page.goto("/console/")
    assert await page.locator(".conversation-list a", has_text="Archive this chat").count() == 0
    await page.get_by_label("Archived").select_option("yes")
    await page.get_by_role("button", name="Filter").click()
    await page.locator(".conversation-list a", has_text="Archive this chat").click()
    await page.get_by_role("button", name="Unarchive").click()
    await page.get_by_role("button", name="Archive", exact=True).wait_for()


async def test_flagged_messages_are_shown_and_admins_filter_by_flag(open_page: Any, console: Console) -> None:
    member = await open_page()
    await sign_in(member, console.tenant.member)
    await send(member, "Please mail me at someone@posteo.de", model="mock-fast")
    await member.wait_for_url(CHAT_URL)
    flag = member.locator(".message.role-user .flag")
    flag_text = await flag.inner_text()
    assert "Flagged" in flag_text and "email" in flag_text
    assert await flag.locator(".action").inner_text() == "flag"
    await shot(member, "05-flagged")
    admin = await open_page()
    await sign_in(admin, console.tenant.admin)
    await admin.get_by_label("Flagged").select_option("yes")
    await admin.get_by_role("button", name="Filter").click()
    await admin.wait_for_url(re.compile(r".*flagged=yes.*"))
    listed = admin.locator(".conversation-list a", has_text="Please mail me at")
    assert await listed.count() == 1 and "flagged" in await listed.inner_text()
    assert await admin.locator(".conversation-list a", has_text="Hello").count() == 0
    await shot(admin, "06-admin-flag-filter")


async def test_usage_chart(open_page: Any, console: Console) -> None:
    page = await open_page()
    await sign_in(page, console.tenant.admin)
    await send(page, "Something to count", model="mock-fast")
    await page.wait_for_url(CHAT_URL)
    await page.get_by_role("link", name="Usage").click()
    chart = page.locator("figure.chart", has_text="Tokens per day").first
    heights = await chart.locator("rect.bar").evaluate_all(
        "bars => bars.map(b => Number(b.getAttribute('height')))"
    )
    assert max(heights) > 0
    assert await page.locator("table.by-user").first.is_visible()  # an admin sees usage per user
    await shot(page, "07-usage")


async def test_admin_config_errors_and_tokens(open_page: Any, console: Console) -> None:
    page = await open_page()
    await sign_in(page, console.tenant.admin)
    await page.get_by_role("link", name="AI config").click()
    await page.get_by_label("Temperature (0 to 2)").fill("7")
    await page.get_by_role("button", name="Save").click()
    assert "temperature" in await page.locator("#temperature-error").inner_text()
    assert await page.get_by_label("Temperature (0 to 2)").get_attribute("aria-invalid") == "true"
    await shot(page, "08-config-error")
    await page.get_by_role("link", name="API tokens").click()
    await page.get_by_label("User id").fill("e2e-user")
    await page.get_by_label("Name (optional)").fill("e2e-token")
    await page.get_by_role("button", name="Create token").click()
    secret = await page.get_by_label("Secret").input_value()
    assert secret.startswith("ck_")
    await shot(page, "09-token-created")
    await page.get_by_role("button", name=re.compile("Revoke token e2e-token")).click()
    await page.wait_for_url("**/console/admin/tokens")
    assert "revoked" in await page.locator("tr", has_text="e2e-token").inner_text()
    async with httpx.AsyncClient(timeout=5) as http:
        refused = await http.get(
            f"{console.url}/api/v3/organizations/{console.tenant.name}/ai/sessions",
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert refused.status_code == 401


async def test_keyboard_only_on_a_phone_screen_with_injected_markup(open_page: Any, console: Console) -> None:
    page = await open_page(width=375, height=740)
    await page.goto("/console/")
    assert await page.evaluate("document.activeElement.id") == "token"  # the sign-in form has the focus
    await page.keyboard.press("Shift+Tab")  # back through the page to the skip link…
    await page.keyboard.press("Shift+Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")  # …and forward again to the token field
    assert await page.evaluate("document.activeElement.id") == "token"
    await page.keyboard.type(console.tenant.member)
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/console/")
    await page.get_by_label("Model").select_option(label=EVIL_NAME)  # the picker shows the name as text
    await page.get_by_label("Message", exact=True).focus()
    await page.keyboard.type(
        '<script>alert("content")</script><img src=x onerror=alert(2)> [x](javascript:alert(3))'
    )
    await page.keyboard.press("Control+Enter")
    await page.wait_for_url(CHAT_URL)
    content = page.locator(".message.role-user .content").first
    assert '<script>alert("content")</script>' in await content.inner_text()
    assert await content.locator("script, img").count() == 0
    assert await page.locator("a[href^='javascript']").count() == 0
    assert await page.evaluate("document.scrollingElement.scrollWidth") <= 375  # nothing wider than the phone
    await shot(page, "10-phone")


# A one-pixel transparent PNG.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ff"
    "ff3f0005fe02fea7d6a4c80000000049454e44ae426082"
)


async def test_attachments_within_and_beyond_the_limits(
    open_page: Any, console: Console, problems: Problems
) -> None:
    problems.expect("status of 400 (Bad Request)")  # the server's refusal of tool.exe, below
    page = await open_page()
    await sign_in(page, console.tenant.member)
    files = page.get_by_label("Attach")
    # Refused in the page before anything is sent, with the reason.
    await files.set_input_files(
        [{"name": f"p{i}.png", "mimeType": "image/png", "buffer": PIXEL} for i in range(6)]
    )
    await send(page, "Six pictures", model="mock-fast")
    await page.get_by_role("status").filter(has_text="Attach at most 5 files").wait_for()
    # Refused by the server, whose message the page shows.
    await files.set_input_files(
        [{"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"}]
    )
    await send(page, "A program")
    await (
        page.get_by_role("status")
        .filter(has_text="tool.exe: this kind of file cannot be attached")
        .wait_for()
    )
    # Within the limits: stored with the message.
    await files.set_input_files([{"name": "pixel.png", "mimeType": "image/png", "buffer": PIXEL}])
    await send(page, "What is in this picture?")
    await page.wait_for_url(CHAT_URL)
    assert "image: png" in await page.locator(".message.role-user .attachments").inner_text()
