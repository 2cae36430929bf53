"""Peer hubs' agencies at this hub: a received `federation.directory` applied (in the
transaction that accepts its envelope), and the peer hubs that agencies name as their home.

The rules of what changes are pure (casehub.domain.federation.directory.reconcile); this module
reads what they need, writes what they decide, and records it in the audit log: one
federation.directory_apply event per directory applied, and one federation.directory_conflict
per entry refused (an id that is this hub's own agency or another peer's: never overwritten)
and per signing key refused (casehub.services.federation.remote_keys: a key whose hub's
statements do not check out, or that another key or hub holds here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from casehub.domain.enums import AgencyKind
from casehub.domain.federation.directory import (
    Known,
    Listing,
    Plan,
    is_newer,
    parse_directory,
    reconcile,
)
from casehub.domain.federation.directory_keys import KeyConflict
from casehub.domain.federation.envelopes import Header, format_moment
from casehub.domain.roles import Operation
from casehub.persistence.tables import AgencyRow
from casehub.services.audit.trail import AuditEntry, append
from casehub.services.federation.remote_keys import apply_keys
from casehub.services.runtime import Scope
from casehub.services.views import PeerHubView

OBJECT_TYPE = "FederationMessage"  # as casehub.services.federation.messages names envelopes


def _known(row: AgencyRow) -> Known:
    listing = Listing(
        row.id, row.code, row.name, AgencyKind(row.kind), row.jurisdiction, row.timezone
    )
    return Known(listing, row.home_hub_id, row.delisted_at is not None)


def _write(row: AgencyRow, listing: Listing) -> None:
    row.code, row.name, row.kind = listing.code, listing.name, listing.kind.value
    row.jurisdiction, row.timezone, row.delisted_at = listing.jurisdiction, listing.timezone, None


async def apply_directory(scope: Scope, header: Header, payload: Mapping[str, Any]) -> None:
    """Apply a peer's directory (its payload checked) inside the caller's transaction, the
    one that stores its envelope. A directory issued no later than the last one applied from
    the same peer changes nothing (recorded as ignored); otherwise the peer's agencies become
    exactly the ones it lists, those it left out delisted, every refused entry recorded."""
    peer = header.sender
    directory = parse_directory(payload)
    last = await scope.store.lock_peer_directory(peer)
    details: dict[str, Any] = {
        "sender": str(peer),
        "issuedAt": format_moment(directory.issued_at),
    }
    if not is_newer(directory.issued_at, last):
        details["ignored"] = "not newer than the directory applied last"
        details["lastApplied"] = None if last is None else format_moment(last)
        await append(scope, [_event("federation.directory_apply", header.id, details)])
        return
    rows = await scope.store.agencies_by_ids([listing.id for listing in directory.agencies])
    own = await scope.store.agencies_of_hub(peer)
    plan = reconcile(
        peer,
        directory,
        {row.id: _known(row) for row in rows},
        {row.id: _known(row) for row in own},
    )
    _change(scope, peer, plan, {row.id: row for row in own})
    refused = {conflict.listing.id for conflict in plan.conflicts}
    keys = await apply_keys(
        scope,
        peer,
        directory,
        {listing.id for listing in directory.agencies if listing.id not in refused},
    )
    await scope.store.set_directory_issued_at(peer, directory.issued_at)
    details |= {
        "added": len(plan.added),
        "updated": len(plan.updated),
        "delisted": len(plan.delisted),
        "conflicts": len(plan.conflicts),
        "keysAdded": len(keys.added),
        "keysUpdated": len(keys.updated),
        "keysWithdrawn": len(keys.withdrawn),
        "keyConflicts": len(keys.conflicts),
    }
    entries = [_event("federation.directory_apply", header.id, details)]
    entries += [
        AuditEntry(
            "federation.directory_conflict",
            outcome="CONFLICT",
            object_type="Agency",
            object_id=conflict.listing.id,
            details={
                "sender": str(peer),
                "message": str(header.id),
                "code": conflict.listing.code,
                "refusal": conflict.refusal.value,
                "homeHub": None if conflict.home_hub_id is None else str(conflict.home_hub_id),
            },
        )
        for conflict in plan.conflicts
    ]
    entries += [_key_conflict(peer, header.id, conflict) for conflict in keys.conflicts]
    await append(scope, entries)
    await scope.store.flush()


def _change(scope: Scope, peer: UUID, plan: Plan, own: Mapping[UUID, AgencyRow]) -> None:
    now = scope.now
    scope.store.add(
        *(
            AgencyRow(
                id=listing.id,
                code=listing.code,
                name=listing.name,
                jurisdiction=listing.jurisdiction,
                kind=listing.kind.value,
                timezone=listing.timezone,
                created_at=now,
                home_hub_id=peer,
            )
            for listing in plan.added
        )
    )
    for listing in plan.updated:
        _write(own[listing.id], listing)
    for agency_id in plan.delisted:
        own[agency_id].delisted_at = now


def _key_conflict(peer: UUID, message_id: UUID, conflict: KeyConflict) -> AuditEntry:
    key = conflict.listing
    return AuditEntry(
        "federation.directory_conflict",
        outcome="CONFLICT",
        object_type="AgencySigningKey",
        object_id=key.id,
        details={
            "sender": str(peer),
            "message": str(message_id),
            "agency": str(key.agency_id),
            "thumbprint": key.thumbprint,
            "refusal": conflict.refusal.value,
            "reason": conflict.reason,
        },
    )


def _event(action: str, message_id: UUID, details: dict[str, Any]) -> AuditEntry:
    return AuditEntry(action, object_type=OBJECT_TYPE, object_id=message_id, details=details)


async def peer_hubs_by_ids(scope: Scope, hub_ids: Sequence[UUID]) -> dict[UUID, PeerHubView]:
    """The peer hubs with these ids (pinned or removed), as agencies name their home hub; the
    directory is open to every role, like the agencies themselves. One statement."""
    scope.require(Operation.READ_DIRECTORY)
    return {
        hub_id: PeerHubView(hub_id, name)
        for hub_id, name in await scope.store.peers_by_ids(hub_ids)
    }
