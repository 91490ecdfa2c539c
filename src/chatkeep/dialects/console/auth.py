"""Signing in (an API token exchanged for a console session) and out."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chatkeep.core import console_sessions
from chatkeep.core.errors import Unauthenticated
from chatkeep.core.use_cases import console_sessions as sessions
from chatkeep.dialects.console.deps import SESSION_COOKIE, Acting
from chatkeep.dialects.console.security import PREFIX, same_origin
from chatkeep.dialects.console.templating import page
from chatkeep.dialects.deps import DB
from chatkeep.dialects.json_body import OffLoopJSONRoute

router = APIRouter(route_class=OffLoopJSONRoute)
# Sign-in has no session yet, so its form is tied to the browser by a cookie of its own (double submit).
SIGN_IN_COOKIE = "chatkeep_console_sign_in"


def _cookie_options(request: Request) -> dict[str, object]:
    return {
        "httponly": True,
        "samesite": "strict",
        "secure": request.url.scheme == "https",
        "path": PREFIX,
    }


def _sign_in_page(request: Request, *, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    key = secrets.token_urlsafe(24)
    response = page(request, "sign_in.html", {"sign_in_key": key, "error": error}, status_code=status_code)
    response.set_cookie(SIGN_IN_COOKIE, key, max_age=3600, **_cookie_options(request))  # type: ignore[arg-type]
    return response


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, ended: bool = False) -> HTMLResponse:
    """The sign-in page (`ended`: the previous session was signed out, expired or revoked)."""
    return _sign_in_page(request, error="Your session has ended; please sign in again." if ended else None)


@router.post("/sign-in", response_model=None)
async def sign_in(
    request: Request, db: DB, token: Annotated[str, Form()] = "", sign_in_key: Annotated[str, Form()] = ""
) -> Response:
    """Exchange an API token for a session cookie (HttpOnly, SameSite=Strict) and open the chat."""
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if (
        not expected
        or not hmac.compare_digest(expected, sign_in_key)
        or not same_origin(request.headers.get("origin"), request.headers.get("host"), request.url.scheme)
    ):
        return _sign_in_page(request, error="The sign-in form expired; please try again.", status_code=403)
    try:
        opened = await sessions.sign_in(db, token_secret=token)
    except Unauthenticated:
        return _sign_in_page(request, error="That token is not valid or has been revoked.", status_code=401)
    response = RedirectResponse(f"{PREFIX}/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.secret,
        max_age=int(console_sessions.LIFETIME.total_seconds()),
        **_cookie_options(request),  # type: ignore[arg-type]
    )
    response.delete_cookie(SIGN_IN_COOKIE, path=PREFIX)
    return response


@router.post("/sign-out")
async def sign_out(visitor: Acting, db: DB) -> RedirectResponse:
    """Revoke the session (the cookie stops working everywhere) and go back to sign-in."""
    await sessions.sign_out(db, secret=visitor.session_secret)
    response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response
