"""Federation commands: create this hub's identity, show it, and pin, list and unpin peers.

A running server reads the keyring when it starts: restart it after `federation init` so it
serves the identity at /federation/v1/identity. Peers are read from the database on every
envelope, so `peers add` and `peers remove` take effect at once on every replica.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import typer

from casehub.cli.common import JsonFlag, emit, run, table, titled
from casehub.cli.errors import CONFIG, CliError
from casehub.config import Settings
from casehub.crypto import LocalKeyring
from casehub.crypto.agency_keys import KeyFormatError
from casehub.crypto.hub_identity import HubIdentity
from casehub.crypto.rotation import add_hub_identity
from casehub.services.federation import peers
from casehub.services.runtime import Runtime

federation_app = typer.Typer(help="Federation with peer hubs.", no_args_is_help=True)
peers_app = typer.Typer(help="Peer hubs pinned by fingerprint.", no_args_is_help=True)
federation_app.add_typer(peers_app, name="peers")

_RESTART = "Restart (or roll) every server now: a server loads the keyring only when it starts."


def _identity(identity: HubIdentity) -> dict[str, str]:
    public = identity.public
    return {"hub": str(public.hub_id), "name": public.name, "fingerprint": public.fingerprint()}


def _lines(data: dict[str, Any]) -> str:
    return "\n".join(f"{key:<12} {value}" for key, value in data.items())


@federation_app.command("init")
def init(
    name: Annotated[
        str, typer.Option("--name", help="This hub's name as peers see it, e.g. MY (1-100).")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Create this hub's identity in the keyring: a hub id, a hybrid Ed25519+ML-DSA-65 signing
    key and an ML-KEM-768+X25519 sealing key. Refused when it has one already. Give the printed
    fingerprint to each peer's operator out of band."""
    try:
        identity = add_hub_identity(Settings().keyring, name)
    except KeyFormatError as error:
        raise CliError(f"{error} — choose another --name", code=CONFIG) from None
    typer.echo(_RESTART, err=True)
    data = _identity(identity)
    emit(data, as_json, lambda: _lines(data))


@federation_app.command("identity")
def identity(as_json: JsonFlag = False) -> None:
    """Print this hub's id, name and fingerprint (what peers' operators check)."""
    data = _identity(LocalKeyring.load(Settings().keyring).hub_identity())
    emit(data, as_json, lambda: _lines(data))


def _row(peer: peers.Peer) -> dict[str, Any]:
    return {
        "hub": str(peer.hub_id),
        "name": peer.name,
        "url": peer.url,
        "fingerprint": peer.fingerprint,
        "added_at": peer.added_at,
        "removed_at": peer.removed_at,
    }


@peers_app.command("add")
def peers_add(
    url: Annotated[str, typer.Option("--url", help="The peer hub's base URL (https).")],
    fingerprint: Annotated[
        str, typer.Option("--fingerprint", help="The fingerprint its operator gave you.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Pin a peer hub: fetch its signed identity from URL/federation/v1/identity and pin it
    only if its fingerprint is the one given. Refused, pinning nothing, on any mismatch."""

    settings = Settings()

    async def work(runtime: Runtime) -> peers.Peer:
        return await peers.add_peer(
            runtime,
            url=url,
            fingerprint=fingerprint,
            allow_http=settings.federation_allow_http,
            seconds=settings.federation_fetch_seconds,
        )

    data = _row(run(settings, work))
    emit(data, as_json, lambda: f"pinned peer {data['name']} ({data['hub']}) at {data['url']}")


@peers_app.command("list")
def peers_list(
    removed: Annotated[
        bool, typer.Option("--removed", help="Include peers that were removed.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """List pinned peer hubs: id, name, URL, fingerprint, when pinned (and removed)."""

    async def work(runtime: Runtime) -> list[peers.Peer]:
        return await peers.list_peers(runtime, removed=removed)

    rows = [_row(peer) for peer in run(Settings(), work)]
    columns = titled("hub", "name", "url", "fingerprint", "added_at")
    columns += titled("removed_at") if removed else []
    emit(rows, as_json, lambda: table(columns, rows, none="no peer hubs"))


@peers_app.command("remove")
def peers_remove(
    hub: Annotated[str, typer.Argument(metavar="HUB_ID", help="The peer's hub id.")],
    as_json: JsonFlag = False,
) -> None:
    """Unpin a peer hub: its envelopes are refused from now on (its row is kept)."""
    try:
        hub_id = UUID(hub)
    except ValueError:
        raise CliError(f"{hub!r} is not a hub id (a UUID)", code=CONFIG) from None

    async def work(runtime: Runtime) -> peers.Peer:
        return await peers.remove_peer(runtime, hub_id)

    data = _row(run(Settings(), work))
    emit(data, as_json, lambda: f"removed peer {data['name']} ({data['hub']})")
