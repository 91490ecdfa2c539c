"""Every console route, attacked: without a session, without the form key, and from another organisation.

The routes come from the app itself, so a new console route is attacked without anyone listing it here.
"""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi import FastAPI

from tests.security.route_matrix import flat_routes, is_console
from tests.support import Tenant

pytestmark = pytest.mark.asyncio
# Reachable before signing in: the sign-in form and its post, and the redirect from /.
PUBLIC = {("GET", "/"), ("GET", "/console/sign-in"), ("POST", "/console/sign-in")}


def console_routes(app: FastAPI) -> list[tuple[str, str]]:
    found = {
        (method, str(route.path_format))
        for route in flat_routes(app)
        if is_console(str(getattr(route, "path_format", "")))
        for method in (getattr(route, "methods", None) or set()) - {"HEAD"}
    }
    return sorted(found - PUBLIC)


def concrete(path: str, conversation: str, token: str) -> str:
    return path.replace("{conversation_id}", conversation).replace("{token_id}", token)


async def test_every_console_route_needs_a_session(console_app: FastAPI, browser) -> None:
    routes = console_routes(console_app)
    assert len(routes) >= 11, routes
    anonymous = await browser()
    for method, path in routes:
        url = concrete(path, str(uuid.uuid4()), str(uuid.uuid4()))
        response = await anonymous.http.request(
            method, url, data={"form_key": "x"} if method == "POST" else None
        )
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/console/sign-in"), (method, path)


async def test_every_state_change_needs_the_form_key(console_app: FastAPI, browser, tenant: Tenant) -> None:
    page = await browser(tenant.admin)
    chat = await page.chat("Form key target")
    for method, path in console_routes(console_app):
        if method != "POST":
            continue
        url = concrete(path, chat, str(uuid.uuid4()))
        response = await page.submit(url, {"archived": "yes", "message_id": str(uuid.uuid4())}, form_key="")
        assert response.status_code == 403, (path, response.status_code)
    assert (await page.get("/console/")).status_code == 200  # still signed in: sign-out was refused too
    assert "Form key target" in (await page.get("/console/")).text  # not archived


async def test_another_organisation_sees_and_changes_nothing(
    console_app: FastAPI, browser, tenant: Tenant, other_tenant: Tenant
) -> None:
    victim = await browser(tenant.member)
    chat = await victim.chat("Victim's private words")
    victim_admin = await browser(tenant.admin)
    token = re.search(
        r'<tr data-token="([0-9a-f-]+)">', (await victim_admin.get("/console/admin/tokens")).text
    )
    assert token
    for secret in (other_tenant.admin, other_tenant.service, other_tenant.member):
        outsider = await browser(secret)
        for method, path in console_routes(console_app):
            url = concrete(path, chat, token.group(1))
            if method == "GET":
                response = await outsider.get(url)
            elif path == "/console/turns":
                status, body = await outsider.turn({"conversation": chat, "text": "hijack"})
                assert status == 404, body
                continue
            elif path == "/console/sign-out":
                continue
            else:
                response = await outsider.submit(url, {"archived": "yes", "message_id": str(uuid.uuid4())})
            assert response.status_code in (200, 303, 403, 404), (secret, method, path, response.status_code)
            assert "Victim&#39;s private words" not in response.text, (method, path)
            assert tenant.member_user() not in response.text, (method, path)
    html = (await victim.get(f"/console/chats/{chat}")).text
    assert "Victim&#39;s private words" in html and ">Archive<" in html  # unchanged
    assert "revoked" not in (await victim_admin.get("/console/admin/tokens")).text
