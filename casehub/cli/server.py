"""Commands that set up and serve: serve, demo, db upgrade and check, keys init, schema export."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer

from casehub.cli.common import (
    JsonFlag,
    check_database_url,
    print_json,
    run,
    runtime_for,
    spinner,
)
from casehub.cli.demo_federated import DEFAULT_STATE, federated_demo
from casehub.cli.errors import CONFIG, CliError, database_errors, fail
from casehub.config import Environment, Settings
from casehub.crypto import (
    add_accreditation_key_if_missing,
    add_index_key_if_missing,
    add_signing_key_if_missing,
    create_keyring,
)
from casehub.demo import loader as demo
from casehub.persistence import migrate
from casehub.services.runtime import Runtime

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="Keyring.", no_args_is_help=True)
schema_app = typer.Typer(help="GraphQL schema.", no_args_is_help=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
) -> None:
    """Serve the API (refuses an un-migrated database)."""
    settings = Settings()
    _serve(settings, host or settings.host, port or settings.port)


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from casehub.app import StartupError, create_app
    from casehub.heap import settle_heap
    from casehub.services.health import schema_problem

    runtime = runtime_for(settings)
    with database_errors(settings.database_url):
        problem = asyncio.run(_check_schema(runtime, schema_problem))
    if problem:
        fail(problem)
    try:
        app = create_app(settings, runtime=runtime)
    except StartupError as error:
        fail(str(error))
    if os.environ.get("FORWARDED_ALLOW_IPS") and not settings.forwarded_allow_ips:
        typer.echo(
            "warning: FORWARDED_ALLOW_IPS is ignored: name the proxies in "
            "CASEHUB_FORWARDED_ALLOW_IPS.",
            err=True,
        )
    settle_heap()
    # On SIGTERM uvicorn stops accepting, lets requests in flight finish (for at most the grace
    # period), closes websockets with 1012 (service restart), then runs the app's shutdown.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        # Logging as create_app set it up (JSON in production); casehub.access replaces
        # uvicorn's access log, with request ids and callers.
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default, so a client on
        # loopback could pick the address its failed authentications count against: only
        # the proxies named in the setting are believed, none by default.
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        # A websocket message is JSON read whole, like a JSON request body: the same limit.
        ws_max_size=settings.max_json_bytes,
        # One process per replica, on purpose: the rate limiters, the per-token count of
        # running operations and (on SQLite) the subscription bus live in the process. The
        # executor yields to the event loop every few milliseconds and each operation has a
        # time budget, so one process keeps serving /healthz and other agencies while a heavy
        # operation runs; for more CPU, run more replicas on PostgreSQL (docs/OPERATIONS.md).
    )


async def _check_schema(
    runtime: Runtime, check: Callable[[Runtime], Awaitable[str | None]]
) -> str | None:
    try:
        return await check(runtime)
    finally:
        await runtime.database.dispose()


def demo_command(
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve after loading.")
    ] = True,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port to bind (with --federated: MY's; FR's is the next one).")
    ] = 8000,
    federated: Annotated[
        bool,
        typer.Option(
            "--federated",
            help="Two peered hubs on loopback, MY and FR, each a `casehub serve` with its own "
            "keyring and database under --state-dir.",
        ),
    ] = False,
    state_dir: Annotated[
        Path, typer.Option(help="With --federated: the hubs' keyrings, databases and logs.")
    ] = DEFAULT_STATE,
    fr_database_url: Annotated[
        str | None,
        typer.Option(
            help="With --federated: FR's database (e.g. PostgreSQL); default SQLite under "
            "--state-dir."
        ),
    ] = None,
) -> None:
    """Create keyring and database if needed, load the demo scenario, print tokens, serve.
    With --federated: two hubs, MY (Malaysian police, regulator) and FR (Paris prosecutor,
    platform), peered, each serving its own agencies."""
    if federated:
        federated_demo(
            host=host,
            port=port,
            state=state_dir,
            fr_database_url=fr_database_url,
            serve_after=serve_after,
        )
        return
    if state_dir != DEFAULT_STATE or fr_database_url is not None:
        raise CliError(
            "--state-dir and --fr-database-url are options of the two-hub demo — add --federated",
            code=CONFIG,
        )
    settings = Settings(env=Environment.DEVELOPMENT)
    # The keyring first: it makes the default home, .casehub/, where the database goes too.
    if not create_keyring(settings.keyring):
        add_signing_key_if_missing(settings.keyring)
        add_index_key_if_missing(settings.keyring)
        add_accreditation_key_if_missing(settings.keyring)
    check_database_url(settings.database_url)
    with database_errors(settings.database_url):
        migrate.upgrade(settings.database_url)

    async def load(runtime: Runtime) -> dict[str, str]:
        with spinner("loading the demo data"):
            return await demo.load(runtime)

    tokens = run(settings, load)
    typer.echo(demo.welcome(tokens, f"http://{host}:{port}/graphql"))
    if serve_after:
        _serve(settings, host, port)


@db_app.command("upgrade")
def db_upgrade(as_json: JsonFlag = False) -> None:
    """Migrate the database to the newest schema (a new SQLite file is created, not its
    directory)."""
    settings = Settings()
    check_database_url(settings.database_url)
    with database_errors(settings.database_url):
        migrate.upgrade(settings.database_url)
    head = migrate.head_revision()
    if as_json:
        print_json({"revision": head})
    typer.echo(f"database at {head}", err=True)


@db_app.command("check")
def db_check(
    wait: Annotated[
        int, typer.Option(min=0, help="Seconds to keep checking, every 2 s; 0: check once.")
    ] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Exit 0 once this release can serve the database (the check `serve` makes), else 1."""
    from casehub.services.health import schema_problem

    # Kubernetes runs it in an init container, so that new servers wait for the migration Job
    # instead of crash-looping until it has run (deploy/k8s/base/deployment.yaml).
    settings = Settings()
    check_database_url(settings.database_url)
    deadline = time.monotonic() + wait
    while True:
        try:
            with database_errors(settings.database_url):
                problem = asyncio.run(_check_schema(runtime_for(settings), schema_problem))
        except CliError as error:
            if error.code == CONFIG:  # waiting will not mend the settings or the keyring
                raise
            problem = str(error)  # no database yet, or not up yet: keep waiting
        if problem is None:
            head = migrate.head_revision()
            if as_json:
                print_json({"ready": True, "revision": head})
            typer.echo(f"database at {head} or newer", err=True)
            return
        if time.monotonic() >= deadline:
            if as_json:
                print_json({"ready": False, "problem": problem})
            fail(problem)
        time.sleep(2)


@keys_app.command("init")
def keys_init() -> None:
    """Create the keyring file (mode 0600) if there is none."""
    path = Settings().keyring
    if create_keyring(path):
        typer.echo(f"created keyring {path}", err=True)
        return
    added = [
        name
        for name, add in (
            ("a receipt-signing key", add_signing_key_if_missing),
            ("an index key", add_index_key_if_missing),
            ("an accreditation key", add_accreditation_key_if_missing),
        )
        if add(path)
    ]
    if added:
        typer.echo(f"keyring {path} exists; added {' and '.join(added)}", err=True)
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
