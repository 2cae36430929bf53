"""`casehub federation directory publish [--peer HUB_ID]`: queue this hub's agency directory
(its own agencies) to every pinned peer, or one, registered into the federation group.

The outbox delivers it (`casehub serve`, or `casehub federation deliver --once`); each peer
then lists these agencies in its `agencies`, with this hub as their home hub.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer

from casehub.cli.common import JsonFlag, emit, run
from casehub.cli.errors import CONFIG, CliError
from casehub.config import Settings
from casehub.services.federation.directory import Published, publish_directory
from casehub.services.federation.messages import NotFederated
from casehub.services.runtime import Runtime

directory_app = typer.Typer(help="This hub's agency directory, as peers see it.")

_NOT_FEDERATED = "this hub has no federation identity — create it with `casehub federation init`"


@directory_app.command("publish")
def publish(
    peer: Annotated[
        str | None,
        typer.Option("--peer", metavar="HUB_ID", help="Only to this pinned peer (its hub id)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Queue this hub's agency directory (code, name, kind, jurisdiction and time zone of each
    of its own agencies) to every pinned peer, or to --peer alone, signed and sealed to each.
    Nothing is queued on any refusal (audited as federation.directory_publish)."""
    try:
        peer_id = None if peer is None else UUID(peer)
    except ValueError:
        raise CliError(f"{peer!r} is not a hub id (a UUID)", code=CONFIG) from None

    async def work(runtime: Runtime) -> Published:
        try:
            return await publish_directory(runtime, peer_id)
        except NotFederated:
            raise CliError(_NOT_FEDERATED) from None

    done = run(Settings(), work)
    data = {
        "issued_at": done.issued_at,
        "agencies": done.agencies,
        "messages": {str(hub): str(message) for hub, message in done.messages.items()},
    }
    text = (
        f"directory of {done.agencies} agencies issued at {done.issued_at}, "
        f"queued to {len(done.messages)} peers"
    )
    emit(data, as_json, lambda: text)


def register(federation_app: typer.Typer) -> None:
    """Add `directory publish` to the `casehub federation` group."""
    federation_app.add_typer(directory_app, name="directory")
