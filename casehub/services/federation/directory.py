"""Publishing this hub's agency directory to its peers: the whole list of this hub's own
agencies, each with its accredited signing keys (and their revocations) and, once, the hub's
accreditation JWKS, as a `federation.directory` message queued to each pinned peer (or one)
through the outbox, all in one transaction with its audit event.

A message, not a public GET: the list of agencies a hub serves is for its peers only, sealed
to each of them and signed by this hub. The receiving side is
casehub.services.federation.remote_agencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from casehub.domain.enums import AgencyKind
from casehub.domain.errors import ValidationFailed
from casehub.domain.federation.directory import (
    DIRECTORY,
    DIRECTORY_MAX_AGENCIES,
    Listing,
    directory_payload,
)
from casehub.domain.federation.directory_keys import KeyListing
from casehub.domain.federation.envelopes import format_moment
from casehub.domain.federation.peers import UnknownPeer
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.persistence.tables import AgencyRow, AgencySigningKeyRow
from casehub.services.audit import trail as audit
from casehub.services.federation.outbox import enqueue
from casehub.services.runtime import Runtime, open_scope


class DirectoryTooLarge(ValidationFailed):
    """This hub has more agencies than one directory message carries."""


@dataclass(frozen=True, slots=True)
class Published:
    """What was queued: the directory's issuedAt, its size, and the message id per peer."""

    issued_at: str
    agencies: int
    messages: dict[UUID, UUID]  # peer hub id -> message id
    keys: int = 0  # accredited signing keys listed


def directory_conversation(peer: UUID) -> UUID:
    """The one conversation of every directory sent to `peer`, fixed (UUIDv5 under the peer's
    hub id): the outbox sends a conversation's messages one after the other, each only once
    the previous one is acknowledged, so directories reach the peer in the order they were
    issued, and a new directory never overtakes an older one stuck in a retry. (The receiver
    also ignores a directory older than the last one it applied.)"""
    return uuid5(peer, "directory")


def _listing(row: AgencyRow) -> Listing:
    return Listing(row.id, row.code, row.name, AgencyKind(row.kind), row.jurisdiction, row.timezone)


def _key(row: AgencySigningKeyRow) -> KeyListing:
    """An accredited key as the directory lists it, with the hub's statements as signed."""
    assert row.accreditation is not None  # only accredited keys are read
    return KeyListing(
        id=row.id,
        agency_id=row.agency_id,
        public_jwk=row.public_jwk,
        thumbprint=row.thumbprint,
        algorithm=SigningAlgorithm(row.algorithm),
        registered_at=row.registered_at,
        accreditation=row.accreditation,
        accreditation_signature=row.accreditation_signature or "",
        accreditation_key=row.accreditation_key or "",
        revocation=row.revocation,
        revocation_signature=row.revocation_signature,
    )


async def publish_directory(runtime: Runtime, peer: UUID | None = None) -> Published:
    """Queue this hub's directory (its own agencies, never its peers') to every pinned peer,
    or to `peer` alone, an operator's act recorded as federation.directory_publish. One
    transaction: every message and the event, or nothing. Refused, writing nothing:
    DirectoryTooLarge (more than DIRECTORY_MAX_AGENCIES agencies), UnknownPeer (`peer` is not
    pinned), NotFederated (no hub identity), PayloadRefused (a directory whose names make it
    larger than a payload may be: 512 KiB)."""
    async with open_scope(runtime) as scope, scope.store.transaction():
        rows = await scope.store.local_agencies(DIRECTORY_MAX_AGENCIES + 1)
        if len(rows) > DIRECTORY_MAX_AGENCIES:
            raise DirectoryTooLarge(
                f"This hub has more than {DIRECTORY_MAX_AGENCIES} agencies: one directory "
                "message carries at most that many.",
                ["agencies"],
            )
        if peer is None:
            targets = [row.hub_id for row in await scope.store.peers()]
        elif await scope.store.active_peer_document(peer) is not None:
            targets = [peer]
        else:
            raise UnknownPeer(f"No pinned peer hub has the id {peer}.", ["peer"])
        issued_at = format_moment(scope.now)
        jwks: dict[str, Any] | None = scope.runtime.keys.accreditation_public_keys()
        keys: list[KeyListing] = []
        if jwks is not None and jwks["keys"]:
            ids = [row.id for row in rows]
            keys = [_key(row) for row in await scope.store.accredited_local_keys(ids)]
        else:  # no accreditation key: no key is accredited, the first version's payload
            jwks = None
        payload = directory_payload(issued_at, [_listing(row) for row in rows], keys, jwks)
        messages = {
            target: await enqueue(
                scope,
                peer=target,
                type=DIRECTORY,
                conversation=directory_conversation(target),
                payload=payload,
            )
            for target in targets
        }
        details = {
            "issuedAt": issued_at,
            "agencies": len(rows),
            "keys": len(keys),
            "peers": {str(target): str(message) for target, message in messages.items()},
        }
        await audit.append(
            scope, [audit.AuditEntry(action="federation.directory_publish", details=details)]
        )
        return Published(issued_at, len(rows), messages, len(keys))
