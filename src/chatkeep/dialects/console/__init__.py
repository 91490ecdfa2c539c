"""The web console: chat, history, safety flags, usage and administration in the browser, at /console/.

Server-rendered pages (Jinja2, autoescaped) with a little plain JavaScript served from this package;
nothing is fetched from another origin. Like every dialect it calls the core's use cases and holds no
business rule of its own.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from chatkeep.dialects.console import admin, auth, chat, turns, usage
from chatkeep.dialects.console.deps import SESSION_COOKIE, SignInRequired
from chatkeep.dialects.console.security import PREFIX, ConsoleHeaders
from chatkeep.dialects.console.templating import STATIC


def build() -> APIRouter:
    """Every console route under /console, plus / sending browsers there."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def home() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    pages = APIRouter(prefix=PREFIX)
    for module in (auth, chat, turns, usage, admin):
        pages.include_router(module.router)
    router.include_router(pages)
    return router


def install(app: FastAPI) -> None:
    """Add the console to the app: its routes, its static files, its headers and its sign-in redirect."""
    app.include_router(build())
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_middleware(ConsoleHeaders)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> RedirectResponse:
        target = f"{PREFIX}/sign-in" + ("?ended=true" if exc.reason else "")
        response = RedirectResponse(target, status_code=303)
        if exc.reason:
            response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response
