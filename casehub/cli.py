"""The `casehub` command: serve, demo, migrations, agencies, tokens, keys, schema, audit."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from casehub.config import Environment, Settings
from casehub.crypto import KeyringError, add_signing_key_if_missing, create_keyring
from casehub.domain.enums import AgencyKind, Role
from casehub.domain.errors import DomainError
from casehub.persistence import migrate
from casehub.services import agencies, audit, auth, demo
from casehub.services.runtime import Runtime, open_scope

T = TypeVar("T")

app = typer.Typer(help="casehub: cross-border case sharing over GraphQL.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
agency_app = typer.Typer(help="Agencies.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
keys_app = typer.Typer(help="Keyring.", no_args_is_help=True)
schema_app = typer.Typer(help="GraphQL schema.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit trail.", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (agency_app, "agency"),
    (token_app, "token"),
    (keys_app, "keys"),
    (schema_app, "schema"),
    (audit_app, "audit"),
):
    app.add_typer(sub, name=name)

_DURATION = re.compile(r"(\d+)([dhm])")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _runtime(settings: Settings) -> Runtime:
    from casehub.app import build_runtime

    try:
        return build_runtime(settings)
    except KeyringError as error:
        _fail(str(error))
        raise


def _run(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    async def main() -> T:
        runtime = _runtime(settings)
        try:
            return await work(runtime)
        finally:
            await runtime.database.dispose()

    try:
        return asyncio.run(main())
    except DomainError as error:
        where = f" ({'.'.join(error.field)})" if error.field else ""
        _fail(f"{error.message}{where}")
        raise


def parse_duration(text: str) -> timedelta:
    """90d, 12h or 30m."""
    match = _DURATION.fullmatch(text)
    if not match:
        raise typer.BadParameter("use a number and d, h or m, e.g. 90d")
    number, unit = int(match.group(1)), match.group(2)
    return {
        "d": timedelta(days=number),
        "h": timedelta(hours=number),
        "m": timedelta(minutes=number),
    }[unit]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
) -> None:
    """Serve the API (refuses an un-migrated database)."""
    settings = Settings()
    _serve(settings, host or settings.host, port or settings.port)


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from casehub.app import create_app
    from casehub.services.health import schema_problem

    runtime = _runtime(settings)
    problem = asyncio.run(_check_schema(runtime, schema_problem))
    if problem:
        _fail(problem)
    uvicorn.run(
        create_app(settings, runtime=runtime),
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=10,
    )


async def _check_schema(
    runtime: Runtime, check: Callable[[Runtime], Awaitable[str | None]]
) -> str | None:
    try:
        return await check(runtime)
    finally:
        await runtime.database.dispose()


@app.command("demo")
def demo_command(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve after loading.")
    ] = True,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
) -> None:
    """Create keyring and database if needed, load the demo scenario, print tokens, serve."""
    settings = Settings(env=Environment.DEVELOPMENT)
    if not create_keyring(settings.keyring):
        add_signing_key_if_missing(settings.keyring)
    migrate.upgrade(settings.database_url)
    tokens = _run(settings, lambda runtime: demo.load(runtime))
    typer.echo(demo.welcome(tokens, f"http://{host}:{port}/graphql"))
    if serve_after:
        _serve(settings, host, port)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    settings = Settings()
    migrate.upgrade(settings.database_url)
    typer.echo(f"database at {migrate.head_revision()}", err=True)


@agency_app.command("add")
def agency_add(
    code: Annotated[str, typer.Option(help="Unique code, e.g. MY-PDRM.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    jurisdiction: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code or INT.")],
    kind: Annotated[AgencyKind, typer.Option(help="Kind of body.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Paris.")] = "UTC",
) -> None:
    """Register an agency; prints its id alone."""

    async def work(runtime: Runtime) -> str:
        async with open_scope(runtime) as scope:
            view = await agencies.register_agency(
                scope,
                code=code,
                name=name,
                jurisdiction=jurisdiction,
                kind=kind,
                timezone=timezone,
                as_operator=True,
            )
            from casehub.api.ids import to_global_id

            return to_global_id("Agency", view.id)

    typer.echo(_run(Settings(), work))


@token_app.command("issue")
def token_issue(
    agency: Annotated[str, typer.Option(help="Agency code.")],
    role: Annotated[list[Role], typer.Option(help="Role; repeat for more.")],
    principal: Annotated[str, typer.Option(help="Name of the person or tool.")] = "agency-tool",
    expires: Annotated[str | None, typer.Option(help="Lifetime such as 90d, 12h, 30m.")] = None,
) -> None:
    """Issue a token; prints the token alone (it is shown only once)."""
    lifetime = parse_duration(expires) if expires else None

    async def work(runtime: Runtime) -> str:
        async with open_scope(runtime) as scope:
            expires_at = scope.now + lifetime if lifetime else None
            _id, token = await auth.issue_token(
                scope,
                agency_code=agency,
                roles=role,
                principal_name=principal,
                expires_at=expires_at,
            )
            return token

    typer.echo(_run(Settings(), work))


@token_app.command("revoke")
def token_revoke(
    token: Annotated[str, typer.Argument(help="The token, or its id.")],
) -> None:
    """Revoke a token at once."""

    async def work(runtime: Runtime) -> str:
        async with open_scope(runtime) as scope:
            return str(await auth.revoke_token(scope, token_or_id=token))

    typer.echo(_run(Settings(), work))


@keys_app.command("init")
def keys_init() -> None:
    """Create the keyring file (mode 0600) if there is none."""
    path = Settings().keyring
    if create_keyring(path):
        typer.echo(f"created keyring {path}", err=True)
    elif add_signing_key_if_missing(path):
        typer.echo(f"keyring {path} exists; added a receipt-signing key", err=True)
    else:
        typer.echo(f"keyring {path} exists; left as it is", err=True)


@schema_app.command("export")
def schema_export(
    output: Annotated[Path | None, typer.Option(help="File to write; stdout if omitted.")] = None,
) -> None:
    """Print (or write) the GraphQL schema in SDL."""
    from casehub.api.schema import sdl

    text = sdl()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit hash chain; exits 1 at the first broken link."""

    async def work(runtime: Runtime) -> tuple[int, int | None]:
        async with open_scope(runtime) as scope:
            return await audit.verify_chain(scope.store)

    checked, broken = _run(Settings(), work)
    if broken is not None:
        _fail(f"audit chain broken at event {broken} ({checked} events)")
    typer.echo(f"audit chain intact: {checked} events")


def main() -> None:
    """Entry point of the console script."""
    app()
