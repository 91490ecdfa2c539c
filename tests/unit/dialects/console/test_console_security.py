"""The console against forged requests and injected markup (content, titles, model names)."""

from __future__ import annotations

import pytest

from tests.fakes import Script, ScriptedProvider
from tests.support import Tenant
from tests.unit.dialects.console.conftest import EVIL_MODEL_NAME

pytestmark = pytest.mark.asyncio
ATTACK = '<script>alert("xss")</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">x</a>'
LINK_ATTACK = "[click me](javascript:alert(4))"


def assert_inert(html: str) -> None:
    """No attacker markup survived as markup: tags arrive escaped, and no script URL became a link."""
    assert '<script>alert("xss")</script>' not in html
    assert "<img src=x" not in html and 'onerror="alert(2)"' not in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;" in html


async def test_forms_without_the_session_form_key_are_refused(browser, tenant: Tenant) -> None:
    page = await browser(tenant.member)
    chat = await page.chat("Keep me safe")
    for key in ("", "0" * 64):
        refused = await page.submit(f"/console/chats/{chat}/archive", {"archived": "yes"}, form_key=key)
        assert refused.status_code == 403
    assert "Keep me safe" in (await page.get("/console/")).text  # still not archived
    assert (await page.submit("/console/sign-out", form_key="")).status_code == 403
    assert (await page.get("/console/")).status_code == 200  # still signed in


async def test_a_form_key_works_only_with_its_own_session(browser, tenant: Tenant) -> None:
    mallory = await browser(tenant.members[tenant.member_user(1)])
    victim = await browser(tenant.members[tenant.member_user(0)])
    chat = await victim.chat("Victim's chat")
    refused = await victim.submit(
        f"/console/chats/{chat}/archive", {"archived": "yes"}, form_key=mallory.form_key
    )
    assert refused.status_code == 403


async def test_turns_need_the_form_key_header_and_the_same_origin(browser, tenant: Tenant) -> None:
    page = await browser(tenant.member)
    status, _ = await page.turn({"text": "hi", "model": "scripted-text"}, form_key="")
    assert status == 403
    response = await page.http.post(
        "/console/turns",
        json={"text": "hi"},
        headers={"X-Form-Key": page.form_key, "Origin": "https://evil.example"},
    )
    assert response.status_code == 403 and response.json()["message"] == "cross-site request refused"


async def test_script_in_message_content_and_answers_stays_text(
    browser, tenant: Tenant, scripted: ScriptedProvider
) -> None:
    scripted.script = Script(deltas=[ATTACK, " ", LINK_ATTACK])
    page = await browser(tenant.member)
    chat = await page.chat(ATTACK + " " + LINK_ATTACK)
    html = (await page.get(f"/console/chats/{chat}")).text
    assert_inert(html)
    assert "[click me](javascript:alert(4))" in html or "click me" in html


async def test_script_in_titles_stays_text_in_the_list_and_the_page(browser, tenant: Tenant) -> None:
    page = await browser(tenant.member)
    chat = await page.chat(ATTACK)  # the first message becomes the title
    assert_inert((await page.get("/console/")).text)
    html = (await page.get(f"/console/chats/{chat}")).text
    assert_inert(html)
    assert "<title>&lt;script&gt;" in html


async def test_script_in_model_names_stays_text(browser, tenant: Tenant) -> None:
    page = await browser(tenant.admin)
    for path in ("/console/", "/console/admin/config"):
        html = (await page.get(path)).text
        assert EVIL_MODEL_NAME not in html
        assert "&lt;script&gt;alert(&#34;model&#34;)&lt;/script&gt;" in html


async def test_script_in_user_ids_stays_text_on_usage_and_tokens(browser, tenant: Tenant) -> None:
    page = await browser(tenant.admin)
    created = await page.submit(
        "/console/admin/tokens", {"user_id": ATTACK, "role": "member", "name": ATTACK}
    )
    assert created.status_code == 200
    assert_inert(created.text)
