"""The `chatkeep` command: serve, migrate, and organisation/token administration."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress
from rich.table import Table
from sqlalchemy.engine import make_url

from chatkeep.core import api_tokens, audit, organisations
from chatkeep.core.bootstrap import bootstrap
from chatkeep.core.errors import ChatkeepError
from chatkeep.core.principals import Role
from chatkeep.observability import tracing
from chatkeep.observability.logs import uvicorn_log_config
from chatkeep.observability.workers import metrics_directory
from chatkeep.settings import Settings
from chatkeep.storage.database import Database
from chatkeep.storage.migrate import migrate as run_migrations
from chatkeep.transfer import exporting, importing

app = typer.Typer(help="chatkeep: a self-hosted, multi-tenant AI chat-session server.", no_args_is_help=True)
org_app = typer.Typer(help="Manage organisations.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(token_app, name="token")
# Tables are read in logs and pipes too; do not squeeze them to 80 columns there.
console = Console() if sys.stdout.isatty() else Console(width=200)
stderr = Console(stderr=True)
T = TypeVar("T")


def _run(work: Callable[[Database], Awaitable[T]], *, errors_to: Console | None = None) -> T:
    """Open the configured database, make sure its schema is current, and run `work` against it.

    A domain error is printed (to `errors_to`, default stdout) and exits with status 1.
    """

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
        (errors_to or console).print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(code=1) from None


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Bind address (default CHATKEEP_HOST or 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default CHATKEEP_PORT or 8000).")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes; /metrics sums them (prometheus multiprocess mode).")
    ] = 1,
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
    json_logs = settings.log_format == "json"
    tracing_on = tracing.endpoint_from(settings.otlp_endpoint) is not None
    with metrics_directory(workers):
        uvicorn.run(
            "chatkeep.app:create_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            log_level=settings.log_level,
            # In JSON mode chatkeep writes the access records itself (see observability.http).
            access_log=settings.access_log and not json_logs,
            log_config=(
                uvicorn_log_config(json_format=json_logs, level=settings.log_level)
                if json_logs or tracing_on
                else uvicorn.config.LOGGING_CONFIG
            ),
            # Slow and idle clients (see chatkeep.http_deadlines and README "Timeouts and connections").
            http="chatkeep.http_deadlines:DeadlineProtocol",
            timeout_keep_alive=settings.keep_alive_timeout_seconds,
            limit_concurrency=settings.max_connections,
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
            issued = await api_tokens.create(
                session, org=organisation, user_id=user or role.value, role=role, name=name
            )
            await audit.record(
                session, principal=audit.operator(organisation.id), **audit.token_created(issued.token)
            )
            return issued

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
            token = await api_tokens.revoke(session, token_id=parsed)
            await audit.record(
                session,
                principal=audit.operator(token.org_id),
                action="token.revoke",
                subject=f"token:{token.id}",
            )

    _run(work)
    console.print(f"revoked token {token_id}")


@app.command("audit")
def audit_command(
    org: Annotated[str | None, typer.Option(help="Only this organisation.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many entries, newest first.")] = 50,
) -> None:
    """Show the audit trail: who (token and role) did what, when and from where."""

    async def work(db: Database) -> list[dict[str, Any]]:
        async with db.read() as session:
            org_id = (await organisations.get_by_name_or_raise(session, name=org)).id if org else None
            return [audit.describe(e) for e in await audit.get_all(session, org_id=org_id, limit=limit)]

    table = Table("when", "action", "subject", "actor", "from", "details")
    for entry in _run(work):
        actor = entry["actor"]
        who = f"{actor['role']} {actor['user'] or ''} {actor['token_id'] or ''}".strip()
        details = ", ".join(f"{k}={v}" for k, v in entry["details"].items())
        table.add_row(
            entry["at"], entry["action"], entry["subject"], who, entry["client_address"] or "", details
        )
    console.print(table)


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        stderr.print("[red]error:[/red] --since must be a date or time in ISO 8601, e.g. 2026-01-31")
        raise typer.Exit(code=2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("export")
def export_command(
    org: Annotated[str, typer.Option(help="Organisation name.")],
    since: Annotated[
        str | None,
        typer.Option(help="Only conversations updated and usage recorded at or after this (ISO 8601, UTC)."),
    ] = None,
) -> None:
    """Write an organisation's conversations (every message version), chat sessions and usage to stdout as
    JSON Lines. Progress goes to stderr."""
    start = _parse_since(since)
    out = sys.stdout.buffer

    async def work(db: Database) -> int:
        total = await exporting.count_messages(db, org_name=org, since=start)
        written = 0
        with _progress() as progress:
            task = progress.add_task("exporting messages", total=total)
            async for line in exporting.export_org(db, org_name=org, since=start):
                out.write(orjson.dumps(line) + b"\n")
                written += 1
                if line["record"] == "message":
                    progress.advance(task)
        out.flush()
        return written

    written = _run(work, errors_to=stderr)  # stdout is the export file
    stderr.print(f"exported {written} records of {org}")


@app.command("import")
def import_command(
    file: Annotated[
        Path, typer.Argument(help="A file written by `chatkeep export`.", exists=True, dir_okay=False)
    ],
) -> None:
    """Load an export into this database; rows already present are skipped, so re-running is safe."""

    def lines(advance: Callable[[int], None]) -> Iterator[dict[str, Any]]:
        with file.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                advance(len(raw))
                if raw.strip():
                    try:
                        yield orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        raise ChatkeepError(f"line {number} of {file} is not JSON") from None

    async def work(db: Database) -> importing.ImportSummary:
        with _progress() as progress:
            task = progress.add_task("importing", total=file.stat().st_size)
            return await importing.import_records(db, lines(lambda n: progress.advance(task, n)))

    summary = _run(work)
    added = ", ".join(f"{n} {kind}" for kind, n in summary.added.items())
    skipped = sum(summary.skipped.values())
    created = " (created the organisation)" if summary.created_org else ""
    console.print(f"imported into {summary.org_name}{created}: {added}; {skipped} already present, skipped")


def _progress() -> Progress:
    """A progress bar on stderr, drawn only on a terminal (stdout may be the export file)."""
    return Progress(
        *Progress.get_default_columns(), MofNCompleteColumn(), console=stderr, disable=not stderr.is_terminal
    )


if __name__ == "__main__":
    app()
