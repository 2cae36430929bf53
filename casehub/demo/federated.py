"""The two-hub demo: which demo agencies each hub serves, and the federation steps its
operators would take, through the real use-cases (pin the other hub, queue a ping, see what
was delivered). `casehub demo --federated` (casehub/cli/demo_federated.py) runs the hubs.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid5

from casehub.domain.federation.outbox import OutboxState
from casehub.services.federation import outbox, peers
from casehub.services.federation.directory import publish_directory
from casehub.services.runtime import Runtime, open_scope

PING = "federation.ping"


@dataclass(frozen=True)
class DemoHub:
    """One hub of the demo: its name (what peers see), its folder and its agencies."""

    name: str
    folder: str
    codes: tuple[str, ...]


# The Malaysian police and regulator at MY; the Paris prosecutor and the platform at FR.
# (INT-UNODC, an international body, belongs to neither jurisdiction's hub: it is left out.)
HUBS = (
    DemoHub("MY", "my", ("MY-PDRM", "MY-MCMC")),
    DemoHub("FR", "fr", ("FR-PARQUET-J3", "AE-RELAYGRAM")),
)


async def pin(runtime: Runtime, *, hub_id: UUID, url: str, fingerprint: str) -> bool:
    """Pin the peer at `url` under the fingerprint its operator gave, as `casehub federation
    peers add` does, unless it is pinned already with exactly this fingerprint at this URL (a
    second run of the demo); whether it was pinned now. Nothing is queued: a message sent
    before the peer pinned this hub would wait (UNKNOWN_HUB, retried with backoff), so the
    demo queues only once both hubs pinned each other."""
    for peer in await peers.list_peers(runtime):
        if (peer.hub_id, peer.url, peer.fingerprint) == (hub_id, url, fingerprint):
            return False
    await peers.add_peer(runtime, url=url, fingerprint=fingerprint)
    return True


async def publish(runtime: Runtime, peer: UUID) -> UUID:
    """Queue this hub's agency directory to the peer; the message id."""
    return (await publish_directory(runtime, peer)).messages[peer]


def ping_conversation(peer: UUID) -> UUID:
    """The one conversation of the demo's pings to a peer."""
    return uuid5(peer, "demo-ping")


async def ping(runtime: Runtime, *, peer: UUID, note: str) -> UUID:
    """Queue a `federation.ping` to the peer (its own transaction); the message id."""
    async with open_scope(runtime) as scope, scope.store.transaction():
        return await outbox.enqueue(
            scope,
            peer=peer,
            type=PING,
            conversation=ping_conversation(peer),
            payload={"note": note},
        )


async def states(runtime: Runtime, messages: tuple[UUID, ...]) -> dict[UUID, str]:
    """The outbox state of each message, with the last error code of a dead one
    (`DEAD UNKNOWN_HUB`)."""
    found: dict[UUID, str] = {}
    async with open_scope(runtime) as scope:
        for message_id in messages:
            row = await scope.store.outbox_message(message_id)
            if row is None:
                found[message_id] = "MISSING"
            elif row.state == OutboxState.DEAD.value:
                found[message_id] = f"DEAD {row.last_error_code}"
            else:
                found[message_id] = row.state
    return found
