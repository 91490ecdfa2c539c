"""Signing in to the console: token → session cookie, only the session's hash stored, sign-out revokes."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from chatkeep.core import api_tokens
from chatkeep.storage.database import Database
from chatkeep.storage.models import ApiToken, ConsoleSession
from tests.support import Tenant

pytestmark = pytest.mark.asyncio


async def test_root_leads_to_the_console_and_asks_to_sign_in(browser) -> None:
    page = await browser()
    root = await page.get("/")
    assert root.status_code == 307 and root.headers["location"] == "/console/"
    home = await page.get("/console/")
    assert home.status_code == 303 and home.headers["location"] == "/console/sign-in"
    form = await page.get("/console/sign-in")
    assert form.status_code == 200
    assert '<label for="token">API token</label>' in form.text


async def test_a_valid_token_opens_a_session_cookie_that_is_httponly_and_samesite_strict(
    browser, tenant: Tenant, db: Database
) -> None:
    page = await browser()
    response = await page.sign_in(tenant.member)
    assert response.status_code == 303 and response.headers["location"] == "/console/"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("chatkeep_console="))
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/console" in lowered
    secret = cookie.split(";")[0].split("=", 1)[1]
    # The database keeps only the SHA-256 of the cookie's secret, never the secret itself.
    async with db.read() as session:
        rows = (await session.execute(select(ConsoleSession))).scalars().all()
    digest = hashlib.sha256(secret.encode()).hexdigest()
    assert any(row.secret_hash == digest for row in rows)
    assert all(secret not in (row.secret_hash, str(row.id)) for row in rows)
    home = await page.get("/console/")
    assert home.status_code == 200
    assert tenant.member_user() in home.text


async def test_a_wrong_token_is_refused_with_a_message_and_no_cookie(browser) -> None:
    page = await browser()
    response = await page.sign_in("ck_not-a-real-token")
    assert response.status_code == 401
    assert "not valid or has been revoked" in response.text
    assert "chatkeep_console=" not in response.headers.get("set-cookie", "")


async def test_sign_in_needs_the_form_it_was_given(browser, tenant: Tenant) -> None:
    """Login CSRF: a form posted from elsewhere lacks the browser's sign-in key."""
    page = await browser()
    response = await page.http.post(
        "/console/sign-in", data={"token": tenant.member, "sign_in_key": "forged"}
    )
    assert response.status_code == 403
    assert "chatkeep_console=" not in response.headers.get("set-cookie", "")


async def test_sign_out_revokes_the_session_everywhere(browser, tenant: Tenant) -> None:
    page = await browser(tenant.member)
    cookie = page.http.cookies.get("chatkeep_console")
    assert cookie
    out = await page.submit("/console/sign-out")
    assert out.status_code == 303 and out.headers["location"] == "/console/sign-in"
    # A copy of the cookie (another tab, a stolen value) no longer works either.
    other = await browser()
    other.http.cookies.set("chatkeep_console", cookie, domain="chatkeep.test", path="/console")
    again = await other.get("/console/")
    assert again.status_code == 303 and again.headers["location"] == "/console/sign-in?ended=true"


async def test_revoking_the_token_ends_its_console_sessions(browser, tenant: Tenant, db: Database) -> None:
    page = await browser(tenant.member)
    assert (await page.get("/console/")).status_code == 200
    async with db.write() as session:
        token_id = (
            await session.execute(
                select(ApiToken.id).where(ApiToken.secret_hash == api_tokens.hash_secret(tenant.member))
            )
        ).scalar_one()
        await api_tokens.revoke(session, token_id=token_id)
    ended = await page.get("/console/")
    assert ended.status_code == 303 and ended.headers["location"] == "/console/sign-in?ended=true"


async def test_pages_carry_a_strict_content_security_policy(browser, tenant: Tenant) -> None:
    page = await browser(tenant.admin)
    for path in (
        "/console/sign-in",
        "/console/",
        "/console/usage",
        "/console/admin/config",
        "/console/admin/tokens",
    ):
        response = await page.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        # No inline script and no inline event handler anywhere: the policy would block them anyway.
        html = response.text
        assert "<script>" not in html and '<script type="module">' not in html
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", html), path


async def test_static_assets_are_served_from_the_package(browser) -> None:
    page = await browser()
    script = await page.get("/console/static/console.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "innerHTML" not in script.text  # streamed text is added as text nodes, never parsed as HTML
    style = await page.get("/console/static/console.css")
    assert style.status_code == 200 and "text/css" in style.headers["content-type"]
    assert "http://" not in style.text and "https://" not in style.text  # nothing fetched from elsewhere
