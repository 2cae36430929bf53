"""The `casehub` command: serve, demo, migrations, agencies, tokens, keys, schema, audit,
overdue requests and receipt chains."""

from __future__ import annotations

import typer

from casehub.cli import admin, keys, requests, server

app = typer.Typer(help="casehub: cross-border case sharing over GraphQL.", no_args_is_help=True)
app.command()(server.serve)
app.command("demo")(server.demo_command)
keys.register(server.keys_app)
for sub, name in (
    (server.db_app, "db"),
    (admin.agency_app, "agency"),
    (admin.token_app, "token"),
    (server.keys_app, "keys"),
    (server.schema_app, "schema"),
    (admin.audit_app, "audit"),
    (requests.requests_app, "requests"),
    (requests.receipts_app, "receipts"),
):
    app.add_typer(sub, name=name)


def main() -> None:
    """Entry point of the console script."""
    app()
