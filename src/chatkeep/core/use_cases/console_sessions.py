"""Console session use cases: sign in with an API token, resolve a session to its caller, sign out."""

from __future__ import annotations

from chatkeep.core import console_sessions
from chatkeep.core.callers import Caller
from chatkeep.core.console_sessions import OpenedSession
from chatkeep.storage.database import Database


async def sign_in(db: Database, *, token_secret: str) -> OpenedSession:
    """Open a session acting with the token's role; Unauthenticated for an unknown or revoked token."""
    async with db.write() as session:
        return await console_sessions.sign_in(session, token_secret=token_secret)


async def resolve(db: Database, *, secret: str) -> Caller:
    """The caller of a live session; Unauthenticated when it ended (signed out, expired, token revoked)."""
    async with db.read() as session:
        return await console_sessions.resolve(session, secret=secret)


async def sign_out(db: Database, *, secret: str) -> None:
    """End the session at once (harmless when it already ended)."""
    async with db.write() as session:
        await console_sessions.sign_out(session, secret=secret)
