"""Who is using the console: the signed-in session from its cookie, and the anti-forgery check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from chatkeep.core import console_sessions
from chatkeep.core.callers import Caller
from chatkeep.core.errors import Forbidden, Unauthenticated
from chatkeep.core.principals import Principal, Role
from chatkeep.core.use_cases import console_sessions as sessions
from chatkeep.dialects.console.security import same_origin
from chatkeep.dialects.deps import get_db

SESSION_COOKIE = "chatkeep_console"
FORM_KEY_FIELD = "form_key"
FORM_KEY_HEADER = "x-form-key"


class SignInRequired(Exception):
    """A page was asked for without a valid session: the browser is sent to the sign-in page."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in console user: the caller of the token the session was opened with."""

    caller: Caller
    session_secret: str

    @property
    def principal(self) -> Principal:
        return self.caller.principal

    @property
    def form_key(self) -> str:
        return console_sessions.form_key(self.session_secret)

    @property
    def is_admin(self) -> bool:
        return self.principal.role == Role.ADMIN


async def _visitor(request: Request) -> Visitor:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise SignInRequired()
    try:
        caller = await sessions.resolve(await get_db(request), secret=secret)
    except Unauthenticated as exc:
        raise SignInRequired(exc.message) from None
    return Visitor(caller=caller, session_secret=secret)


async def _checked_visitor(request: Request) -> Visitor:
    """The visitor of a state-changing request, which must carry the session's form key (header or field)
    and, when the browser names its origin, come from this server."""
    visitor = await _visitor(request)
    if not same_origin(request.headers.get("origin"), request.headers.get("host"), request.url.scheme):
        raise Forbidden("cross-site request refused")
    presented = request.headers.get(FORM_KEY_HEADER)
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(FORM_KEY_FIELD)
        presented = value if isinstance(value, str) else None
    if not console_sessions.form_key_matches(visitor.session_secret, presented):
        raise Forbidden("the form has expired or did not come from this console; reload the page")
    return visitor


SignedIn = Annotated[Visitor, Depends(_visitor)]
Acting = Annotated[Visitor, Depends(_checked_visitor)]
