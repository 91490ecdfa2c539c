"""The console in a real browser: sign in, chat with streamed answers, stop, edit, regenerate, versions,
archive, safety flags, usage charts and tokens, by keyboard and on a phone-sized screen."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import EVIL_NAME, Console, shot

pytestmark = pytest.mark.e2e
CHAT_URL = re.compile(r".*/console/chats/[0-9a-f-]{36}.*")


def sign_in(page: Any, secret: str) -> None:
    page.goto("/console/")
    page.get_by_label("API token").fill(secret)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/")


def send(page: Any, text: str, model: str | None = None) -> None:
    if model:
        page.get_by_label("Model").select_option(model)
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()


def upstream_requests(console: Console, marker: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = httpx.get(
        f"{console.upstream.url}/_mock/requests", params={"marker": marker}, timeout=5
    ).json()
    return rows


def test_sign_in_and_chat_with_a_streamed_answer(open_page: Any, console: Console) -> None:
    page = open_page()
    page.goto("/console/sign-in")
    shot(page, "01-sign-in")
    sign_in(page, console.tenant.member)
    send(page, "Hello *console*", model="mock-fast")
    live = page.locator(".message.live .content").last
    # Part of the answer is on screen while the model is still writing, with the stop button offered.
    live.filter(has_text="w1").wait_for()
    assert page.get_by_role("button", name="Stop").is_visible()
    assert "w11" not in live.inner_text()
    page.wait_for_url(CHAT_URL)
    answer = page.locator(".message.role-assistant .content").last
    assert answer.inner_text().strip().startswith("w0 w1 w2")
    assert "w11" in answer.inner_text()
    assert page.locator(".message.role-user em").inner_text() == "console"  # markdown, rendered server-side
    shot(page, "02-chat")


def test_stop_cancels_the_model_call(open_page: Any, console: Console) -> None:
    page = open_page()
    sign_in(page, console.tenant.member)
    marker = f"stop-{uuid.uuid4().hex[:8]}"
    send(page, marker, model="mock-slow")
    page.locator(".message.live .content").last.filter(has_text="w3").wait_for()
    page.get_by_role("button", name="Stop").click()
    page.wait_for_url(CHAT_URL)
    page.reload()
    assert page.locator(".message.role-assistant .badge", has_text="stopped").is_visible()
    kept = page.locator(".message.role-assistant .content").last.inner_text()
    assert kept.startswith("w0 w1 w2 w3") and "w399" not in kept
    # The upstream saw chatkeep hang up: the model call itself was cancelled.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        rows = upstream_requests(console, marker)
        if rows and rows[0]["disconnected_at"] is not None:
            break
        time.sleep(0.1)
    assert rows and rows[0]["disconnected_at"] is not None and rows[0]["deltas_sent"] < 400, rows
    shot(page, "03-stopped")


def test_regenerate_edit_and_switch_versions(open_page: Any, console: Console) -> None:
    page = open_page()
    sign_in(page, console.tenant.member)
    send(page, "Version one", model="mock-fast")
    page.wait_for_url(CHAT_URL)
    page.get_by_role("button", name="Regenerate").click()
    page.locator(".version-count", has_text="2/2").wait_for()
    page.get_by_role("button", name="Previous version").click()
    page.locator(".version-count", has_text="1/2").wait_for()
    page.get_by_role("button", name="Next version").click()
    page.locator(".version-count", has_text="2/2").wait_for()
    # Edit the question: a second version of it, with its own answer.
    page.locator(".message.role-user summary", has_text="Edit").click()
    page.get_by_label("Edited message").fill("Version two")
    page.get_by_role("button", name="Save and send").click()
    page.locator(".message.role-user .content", has_text="Version two").wait_for()
    user = page.locator(".message.role-user").first
    assert user.locator(".version-count").inner_text() == "2/2"
    user.get_by_role("button", name="Previous version").click()
    page.locator(".message.role-user .content", has_text="Version one").wait_for()
    shot(page, "04-versions")


def test_archive_and_unarchive(open_page: Any, console: Console) -> None:
    page = open_page()
    sign_in(page, console.tenant.member)
    send(page, "Archive this chat", model="mock-fast")
    page.wait_for_url(CHAT_URL)
    page.get_by_role("button", name="Archive", exact=True).click()
    page.get_by_role("button", name="Unarchive").wait_for()
    page.goto("/console/")
    assert page.locator(".conversation-list", has_text="Archive this chat").count() == 0
    page.get_by_label("Archived").select_option("yes")
    page.get_by_role("button", name="Filter").click()
    page.locator(".conversation-list a", has_text="Archive this chat").click()
    page.get_by_role("button", name="Unarchive").click()
    page.get_by_role("button", name="Archive", exact=True).wait_for()


def test_flagged_messages_are_shown_and_admins_filter_by_flag(open_page: Any, console: Console) -> None:
    member = open_page()
    sign_in(member, console.tenant.member)
    send(member, "Please mail me at someone@posteo.de", model="mock-fast")
    member.wait_for_url(CHAT_URL)
    flag = member.locator(".message.role-user .flag")
    assert "Flagged" in flag.inner_text() and "email" in flag.inner_text()
    assert flag.locator(".action").inner_text() == "flag"
    shot(member, "05-flagged")
    admin = open_page()
    sign_in(admin, console.tenant.admin)
    admin.get_by_label("Flagged").select_option("yes")
    admin.get_by_role("button", name="Filter").click()
    listed = admin.locator(".conversation-list a", has_text="Please mail me at")
    assert listed.count() == 1 and "flagged" in listed.inner_text()
    shot(admin, "06-admin-flag-filter")


def test_usage_chart(open_page: Any, console: Console) -> None:
    page = open_page()
    sign_in(page, console.tenant.admin)
    send(page, "Something to count", model="mock-fast")
    page.wait_for_url(CHAT_URL)
    page.get_by_role("link", name="Usage").click()
    chart = page.locator("figure.chart", has_text="Tokens per day").first
    heights = [float(h) for h in chart.locator("rect.bar").evaluate_all("bars => bars.map(b => b.getAttribute('height'))")]
    assert max(heights) > 0
    assert page.locator("table.by-user").first.is_visible()  # an admin sees usage per user
    shot(page, "07-usage")


def test_admin_config_errors_and_tokens(open_page: Any, console: Console) -> None:
    page = open_page()
    sign_in(page, console.tenant.admin)
    page.get_by_role("link", name="AI config").click()
    page.get_by_label("Temperature (0–2)").fill("7")
    page.get_by_role("button", name="Save").click()
    error = page.locator("#temperature-error")
    assert "temperature" in error.inner_text()
    assert page.get_by_label("Temperature (0–2)").get_attribute("aria-invalid") == "true"
    shot(page, "08-config-error")
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("User id").fill("e2e-user")
    page.get_by_label("Name (optional)").fill("e2e-token")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label("Secret").input_value()
    assert secret.startswith("ck_")
    shot(page, "09-token-created")
    page.get_by_role("button", name=re.compile("Revoke token e2e-token")).click()
    row = page.locator("tr", has_text="e2e-token")
    assert "revoked" in row.inner_text()
    assert httpx.get(
        f"{console.url}/api/v3/organizations/{console.tenant.name}/ai/sessions",
        headers={"Authorization": f"Bearer {secret}"},
    ).status_code == 401


def test_keyboard_only_on_a_phone_screen_with_injected_markup(open_page: Any, console: Console) -> None:
    page = open_page(width=375, height=740)
    page.goto("/console/")
    page.keyboard.press("Tab")  # the skip link first
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "token"
    page.keyboard.type(console.tenant.member)
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/")
    page.get_by_label("Model").select_option(label=EVIL_NAME)  # the picker shows the name as text
    page.get_by_label("Message", exact=True).focus()
    page.keyboard.type('<script>alert("content")</script><img src=x onerror=alert(2)> [x](javascript:alert(3))')
    page.keyboard.press("Control+Enter")
    page.wait_for_url(CHAT_URL)
    content = page.locator(".message.role-user .content").first
    assert '<script>alert("content")</script>' in content.inner_text()
    assert content.locator("script, img").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375  # nothing wider than the phone
    shot(page, "10-phone")
