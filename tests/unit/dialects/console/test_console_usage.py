"""The usage page: charts from the usage ledger, per user for admins, and the organisation's limits."""

from __future__ import annotations

import re

import pytest

from chatkeep.storage.types import utcnow
from tests.support import Tenant

pytestmark = pytest.mark.asyncio


async def test_usage_charts_show_todays_tokens_and_requests(browser, tenant: Tenant) -> None:
    page = await browser(tenant.member)
    await page.chat("Count me")
    await page.chat("Count me too")
    html = (await page.get("/console/usage")).text
    today = utcnow().strftime("%d")
    # The scripted model reports 11 input and 3 output tokens per turn.
    assert f"<title>{today}: 28 tokens</title>" in html
    assert f"<title>{today}: 2 requests</title>" in html
    assert "<title>scripted-text: 28 tokens</title>" in html
    assert "<title>scripted-text: 2 requests</title>" in html
    assert html.count("<svg viewBox=") >= 5  # this month's three charts and last month's two
    assert "Per user" not in html  # a member sees only their own usage


async def test_admins_see_usage_per_user_and_can_pick_one(browser, tenant: Tenant) -> None:
    member = await browser(tenant.member)
    await member.chat("Member usage")
    admin = await browser(tenant.admin)
    html = (await admin.get("/console/usage")).text
    assert "Per user" in html and tenant.member_user() in html
    assert f"<title>{tenant.member_user()}: 14 tokens</title>" in html  # the per-user chart
    one = (await admin.get("/console/usage", params={"user": tenant.member_user()})).text
    assert f"Usage of <strong>{tenant.member_user()}</strong>" in one
    assert re.search(r"<dt>Requests</dt><dd>1</dd>", one)


async def test_limits_say_no_limit_by_default(browser, tenant: Tenant) -> None:
    page = await browser(tenant.member)
    html = (await page.get("/console/usage")).text
    assert re.search(r"<dt>Monthly token quota</dt>\s*<dd>no limit</dd>", html)
