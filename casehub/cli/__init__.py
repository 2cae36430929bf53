"""The `casehub` command: serve, demo, migrations, agencies, tokens, keys, schema, audit,
overdue requests, receipt chains, signature bundles, agency signing keys, registered
documents and federation with peer hubs."""

from __future__ import annotations

import sys
from importlib.metadata import version
from typing import Annotated

import typer

from casehub.cli import (
    admin,
    documents,
    federation,
    federation_directory,
    federation_outbox,
    keys,
    requests,
    server,
    signing,
)
from casehub.cli.errors import options, report

app = typer.Typer(
    help="casehub: cross-border case sharing over GraphQL.",
    no_args_is_help=True,
    # Errors are reported by main(), one line each; --debug prints the plain traceback.
    pretty_exceptions_enable=False,
)


def _version(shown: bool) -> None:
    if shown:
        typer.echo(f"casehub {version('casehub')}")
        raise typer.Exit


@app.callback()
def _options(
    _show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Print the traceback of any error.")
    ] = False,
) -> None:
    options.debug = debug


app.command()(server.serve)
app.command("demo")(server.demo_command)
keys.register(server.keys_app)
federation_outbox.register(federation.federation_app)
federation_directory.register(federation.federation_app)
signing.register(admin.agency_app, server.keys_app)
for sub, name in (
    (server.db_app, "db"),
    (admin.agency_app, "agency"),
    (admin.token_app, "token"),
    (server.keys_app, "keys"),
    (server.schema_app, "schema"),
    (admin.audit_app, "audit"),
    (requests.requests_app, "requests"),
    (requests.receipts_app, "receipts"),
    (documents.documents_app, "documents"),
    (federation.federation_app, "federation"),
):
    app.add_typer(sub, name=name)


def main() -> None:
    """Entry point of the console script: every error leaves through report()."""
    try:
        app()
    except Exception as error:
        sys.exit(report(error))
