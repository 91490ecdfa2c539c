"""The `chatkeep` command: serve, migrate, and organisation/token administration."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from chatkeep.core import api_tokens, organisations
from chatkeep.core.bootstrap import bootstrap
from chatkeep.core.errors import ChatkeepError
from chatkeep.core.principals import Role
from chatkeep.settings import Settings
from chatkeep.storage.database import Database
from chatkeep.storage.migrate import migrate as run_migrations

app = typer.Typer(help="chatkeep: a self-hosted, multi-tenant AI chat-session server.", no_args_is_help=True)
org_app = typer.Typer(help="Manage organisations.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(token_app, name="token")
# Tables are read in logs and pipes too; do not squeeze them to 80 columns there.
console = Console() if sys.stdout.isatty() else Console(width=200)
T = TypeVar("T")


def _run(work: Callable[[Database], Awaitable[T]]) -> T:
    """Open the configured database, make sure its schema is current, and run `work` against it."""

    async def main() -> T:
        # One short-lived command needs one connection, not a server's pool.
        db = Database(Settings().resolved_database_url(), pool_size=1, max_overflow=1)
        try:
            await run_migrations(db)
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except ChatkeepError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(code=1) from None


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Bind address (default CHATKEEP_HOST or 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default CHATKEEP_PORT or 8000).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the server. The first start against an empty database prints an admin token once."""
    import uvicorn

    settings = Settings()
    # A URL object prints its password as ***; this line ends up in service logs.
    console.print(f"chatkeep database: {make_url(settings.resolved_database_url())}")

    async def prepare(db: Database) -> api_tokens.IssuedToken | None:
        return await bootstrap(db) if settings.bootstrap else None

    issued = _run(prepare)
    if issued is not None:
        console.print(
            f"Created organisation [bold]default[/bold] and an admin token (shown once, store it now):\n"
            f"  CHATKEEP_TOKEN={issued.secret}"
        )
    uvicorn.run(
        "chatkeep.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level,
        access_log=settings.access_log,
    )


@app.command()
def migrate() -> None:
    """Apply database migrations (safe to run again)."""

    async def noop(db: Database) -> None:
        return None

    _run(noop)
    console.print("database schema is up to date")


@org_app.command("create")
def org_create(name: Annotated[str, typer.Argument(help="Machine name, used in URLs.")]) -> None:
    """Create an organisation."""

    async def work(db: Database) -> str:
        async with db.write() as session:
            org = await organisations.create(session, name=name)
            return str(org.id)

    org_id = _run(work)
    console.print(f"created organisation {name} ({org_id})")


@org_app.command("list")
def org_list() -> None:
    """List organisations."""

    async def work(db: Database) -> list[tuple[str, str, str]]:
        async with db.read() as session:
            return [
                (o.name, o.created_at.isoformat(timespec="seconds"), str(o.id))
                for o in await organisations.get_all(session)
            ]

    table = Table("name", "created")
    table.add_column("id", no_wrap=True, min_width=36)
    for row in _run(work):
        table.add_row(*row)
    console.print(table)


@token_app.command("create")
def token_create(
    org: Annotated[str, typer.Option(help="Organisation name.")],
    user: Annotated[
        str | None, typer.Option(help="User id the token acts as (default: the role name).")
    ] = None,
    role: Annotated[Role, typer.Option(help="admin, member or service.")] = Role.MEMBER,
    name: Annotated[str | None, typer.Option(help="A label for the token.")] = None,
) -> None:
    """Create a token. The secret is printed once, as the last line."""
    if role is Role.MEMBER and not user:
        console.print("[red]error:[/red] a member token needs --user")
        raise typer.Exit(code=2)

    async def work(db: Database) -> api_tokens.IssuedToken:
        async with db.write() as session:
            organisation = await organisations.get_by_name_or_raise(session, name=org)
            return await api_tokens.create(
                session, org=organisation, user_id=user or role.value, role=role, name=name
            )

    issued = _run(work)
    console.print(
        f"token {issued.token.id} for user {issued.token.user_id!r} ({issued.token.role}) in {org}; "
        "the secret below is shown only once:"
    )
    typer.echo(issued.secret)


@token_app.command("list")
def token_list(org: Annotated[str | None, typer.Option(help="Only this organisation.")] = None) -> None:
    """List tokens (never their secrets)."""

    async def work(db: Database) -> list[list[str]]:
        async with db.read() as session:
            org_id = (await organisations.get_by_name_or_raise(session, name=org)).id if org else None
            return [
                [
                    org_name,
                    t.user_id,
                    t.role,
                    t.prefix + "…",
                    t.name or "",
                    "revoked" if t.revoked_at else "active",
                    str(t.id),
                ]
                for t, org_name in await api_tokens.get_all(session, org_id=org_id)
            ]

    table = Table("org", "user", "role", "prefix", "name", "state")
    table.add_column("id", no_wrap=True, min_width=36)
    for row in _run(work):
        table.add_row(*row)
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (from `token list`).")],
) -> None:
    """Revoke a token; it stops working immediately."""
    try:
        parsed = uuid.UUID(token_id)
    except ValueError:
        console.print("[red]error:[/red] token id must be a UUID (see `chatkeep token list`)")
        raise typer.Exit(code=2) from None

    async def work(db: Database) -> None:
        async with db.write() as session:
            await api_tokens.revoke(session, token_id=parsed)

    _run(work)
    console.print(f"revoked token {token_id}")


if __name__ == "__main__":
    app()
