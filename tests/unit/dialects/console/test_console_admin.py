"""Administration in the console: the AI config form with per-field errors, and API tokens."""

from __future__ import annotations

import re

import pytest

from tests.support import Tenant

pytestmark = pytest.mark.asyncio


def field_error(html: str, name: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="{name}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else None


async def test_members_and_services_cannot_open_administration(browser, tenant: Tenant) -> None:
    for secret in (tenant.member, tenant.service):
        page = await browser(secret)
        for path in ("/console/admin/config", "/console/admin/tokens"):
            assert (await page.get(path)).status_code == 403
        refused = await page.submit("/console/admin/tokens", {"user_id": "sneaky", "role": "admin"})
        assert refused.status_code == 403
        assert "API tokens" not in (await page.get("/console/")).text  # not in the navigation either


async def test_the_config_form_saves_valid_values(browser, tenant: Tenant) -> None:
    page = await browser(tenant.admin)
    saved = await page.submit(
        "/console/admin/config",
        {
            "temperature": "0.7",
            "max_tokens": "256",
            "system_prompt": "Be brief.",
            "monthly_token_quota": "5000",
            "guard_policy": '{"pii": {"categories": {"email": "redact"}}}',
        },
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/console/admin/config?saved=true"
    html = (await page.get("/console/admin/config?saved=true")).text
    assert 'value="0.7"' in html and 'value="256"' in html and "Be brief." in html and "Saved." in html
    usage = (await page.get("/console/usage")).text
    assert 'id="quota-left">5,000<' in usage


async def test_invalid_values_are_shown_next_to_their_field(browser, tenant: Tenant) -> None:
    page = await browser(tenant.admin)
    cases = {
        "temperature": ({"temperature": "5"}, "temperature"),
        "max_tokens": ({"max_tokens": "many"}, "must be a whole number"),
        "guard_policy": ({"guard_policy": "{not json"}, "not valid JSON"),
        "default_model": (
            {"enabled_models": "scripted-text", "default_model": "scripted-vision"},
            "default_model must be one of enabled_models",
        ),
        "enabled_models": ({"enabled_models": "no-such-model"}, "unknown model ids"),
    }
    for name, (data, expected) in cases.items():
        response = await page.submit("/console/admin/config", data)
        assert response.status_code == 200, name  # the form again, with the mistake marked
        message = field_error(response.text, name)
        assert message and expected in message, (name, message)
        assert f'aria-describedby="{name}-error"' in response.text
    policy = await page.submit(
        "/console/admin/config", {"guard_policy": '{"pii": {"categories": {"emial": "block"}}}'}
    )
    assert policy.status_code == 200
    assert field_error(policy.text, "guard_policy")


async def test_tokens_are_created_with_the_secret_shown_once_then_revoked(browser, tenant: Tenant) -> None:
    page = await browser(tenant.admin)
    created = await page.submit(
        "/console/admin/tokens", {"user_id": "new-person", "role": "member", "name": "laptop"}
    )
    assert created.status_code == 200
    secret = re.search(r'id="new-secret" class="code" readonly value="(ck_[^"]+)"', created.text)
    assert secret
    listing = (await page.get("/console/admin/tokens")).text
    assert "laptop" in listing and secret.group(1) not in listing  # shown once, never again
    # The new token works; revoking it stops it.
    newcomer = await browser(secret.group(1))
    assert (await newcomer.get("/console/")).status_code == 200
    token_id = re.search(r'<tr data-token="([0-9a-f-]+)">\s*<td>laptop</td>', listing)
    assert token_id
    revoked = await page.submit(f"/console/admin/tokens/{token_id.group(1)}/revoke")
    assert revoked.status_code == 303
    assert "revoked" in (await page.get("/console/admin/tokens")).text
    assert (await newcomer.get("/console/")).status_code == 303


async def test_another_organisations_token_cannot_be_revoked(
    browser, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await browser(other_tenant.admin)
    listing = (await theirs.get("/console/admin/tokens")).text
    their_token = re.search(r'<tr data-token="([0-9a-f-]+)">', listing)
    assert their_token
    ours = await browser(tenant.admin)
    refused = await ours.submit(f"/console/admin/tokens/{their_token.group(1)}/revoke")
    assert refused.status_code == 404 and "no such token in this organisation" in refused.text
    assert "revoked" not in (await theirs.get("/console/admin/tokens")).text


async def test_an_invalid_role_is_refused_with_a_message(browser, tenant: Tenant) -> None:
    page = await browser(tenant.admin)
    refused = await page.submit("/console/admin/tokens", {"user_id": "x", "role": "superuser"})
    assert refused.status_code == 200 and "role must be one of" in refused.text
