"""This hub's identity document, and the peer hubs an operator pins, lists and removes.

Pinning is trust on first use made explicit: the operator is given the peer's fingerprint out
of band, the peer's signed document is fetched from its URL, and it is pinned only if it is
self-signed and its fingerprint is exactly the one given. Every refusal is checked before the
one transaction that writes the row and its audit event, so a refusal writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from uuid import UUID

from casehub.crypto.agency_keys import KeyFormatError
from casehub.crypto.hub_identity import HubIdentity, HubPublicIdentity, InvalidHubSignature
from casehub.domain.errors import Conflict
from casehub.domain.federation.identity import (
    SIGNED_DOCUMENT_MAX_BYTES,
    fingerprints_equal,
    normalize_fingerprint,
)
from casehub.domain.federation.peers import (
    IDENTITY_PATH,
    FingerprintMismatch,
    InvalidFingerprint,
    PeerDocumentMalformed,
    PeerSignatureInvalid,
    SelfPeering,
    UnknownPeer,
    peer_base_url,
)
from casehub.persistence.base import DuplicateError
from casehub.persistence.store import Store
from casehub.persistence.tables import FederationPeerRow
from casehub.services.audit import trail as audit
from casehub.services.federation.transport import get_bounded
from casehub.services.runtime import Runtime, open_scope

FETCH_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Peer:
    """A pinned (or removed) peer hub as an operator sees it."""

    hub_id: UUID
    name: str
    url: str
    fingerprint: str
    added_at: datetime
    removed_at: datetime | None


def _peer(row: FederationPeerRow) -> Peer:
    return Peer(row.hub_id, row.name, row.url, row.fingerprint, row.added_at, row.removed_at)


@lru_cache(maxsize=4)
def _signed(identity: HubIdentity) -> dict[str, object]:
    # Signing is ML-DSA work; the identity route is public, so it must not sign per request.
    return identity.signed_document()


def identity_document(runtime: Runtime) -> dict[str, object] | None:
    """This hub's signed identity document, or None when the keyring has no identity."""
    if not runtime.keys.has_hub_identity:
        return None
    return _signed(runtime.keys.hub_identity())


@lru_cache(maxsize=1024)
def _parsed(document: str) -> HubPublicIdentity:
    # Keyed by the stored text: a re-pinned peer's new document is a new entry, never stale.
    return HubPublicIdentity.from_document_text(document)


async def pinned(store: Store, hub_id: UUID) -> HubPublicIdentity | None:
    """The public identity of a pinned peer hub, or None when the hub is not pinned now (never
    pinned or removed): one primary-key read, the parse cached."""
    document = await store.active_peer_document(hub_id)
    return None if document is None else _parsed(document)


async def fetch_identity(
    url: str, *, allow_http: bool = False, seconds: float = FETCH_TIMEOUT_SECONDS
) -> tuple[str, HubPublicIdentity]:
    """The base URL and the self-signed identity a peer serves at URL/federation/v1/identity;
    InvalidPeerUrl, PeerUnreachable, PeerResponseTooLarge, PeerDocumentMalformed or
    PeerSignatureInvalid otherwise. Pins nothing."""
    base = peer_base_url(url, allow_http=allow_http)
    body = await get_bounded(
        base + IDENTITY_PATH, max_bytes=SIGNED_DOCUMENT_MAX_BYTES, seconds=seconds
    )
    try:
        return base, HubPublicIdentity.from_signed_body(body)
    except InvalidHubSignature:
        raise PeerSignatureInvalid(
            f"{base} served a hub document whose signature does not verify: nothing was pinned.",
            ["url"],
        ) from None
    except KeyFormatError as error:
        raise PeerDocumentMalformed(
            f"{base} did not serve a hub document ({error}): nothing was pinned.", ["url"]
        ) from None


async def add_peer(
    runtime: Runtime,
    *,
    url: str,
    fingerprint: str,
    allow_http: bool = False,
    seconds: float = FETCH_TIMEOUT_SECONDS,
) -> Peer:
    """Pin the peer hub at `url` whose fingerprint the operator was given, an operator's act
    recorded as federation.peer_add. A peer pinned before (or removed) is pinned again with the
    document it serves now (its keys may have changed: the operator checked the new
    fingerprint). Refused, writing nothing: a fingerprint that is not one, a bad URL, a peer
    that cannot be reached or answers too much, a document that is malformed or not
    self-signed, another fingerprint (FingerprintMismatch), this hub itself (SelfPeering).
    KeyringError when this hub has no identity yet."""
    expected = normalize_fingerprint(fingerprint)
    if expected is None:
        raise InvalidFingerprint(
            "A fingerprint is 'sha256:' and 64 hex digits, as `casehub federation init` prints.",
            ["fingerprint"],
        )
    own = runtime.keys.hub_identity()
    base, identity = await fetch_identity(url, allow_http=allow_http, seconds=seconds)
    actual = identity.fingerprint()
    if not fingerprints_equal(expected, actual):
        raise FingerprintMismatch(expected, actual)
    if identity.hub_id == own.hub_id:
        raise SelfPeering(f"{base} serves this hub's own identity: a hub is not its own peer.")
    try:
        return await _pin(runtime, base, identity)
    except DuplicateError:
        raise Conflict(
            "Another operator pinned this hub at the same time; run the command again."
        ) from None


async def _pin(runtime: Runtime, base: str, identity: HubPublicIdentity) -> Peer:
    """Write the pin and its audit event in one transaction (a removed peer's row is reused)."""
    fingerprint = identity.fingerprint()
    async with open_scope(runtime) as scope, scope.store.transaction():
        row = await scope.store.peer(identity.hub_id)
        previous = None if row is None else row.fingerprint
        if row is None:
            row = FederationPeerRow(
                hub_id=identity.hub_id,
                name=identity.name,
                url=base,
                fingerprint=fingerprint,
                document=identity.document_text,
                added_at=scope.now,
            )
            scope.store.add(row)
        else:
            row.name, row.url, row.fingerprint = identity.name, base, fingerprint
            row.document, row.added_at, row.removed_at = identity.document_text, scope.now, None
        details: dict[str, object] = {"hub": str(identity.hub_id), "name": identity.name}
        details |= {"url": base, "fingerprint": fingerprint, "previous": previous}
        await audit.append(scope, [audit.AuditEntry(action="federation.peer_add", details=details)])
        await scope.store.flush()
        return _peer(row)


async def list_peers(runtime: Runtime, *, removed: bool = False) -> list[Peer]:
    """The pinned peers (and the removed ones when asked), by name."""
    async with open_scope(runtime) as scope:
        return [_peer(row) for row in await scope.store.peers(removed=removed)]


async def remove_peer(runtime: Runtime, hub_id: UUID) -> Peer:
    """Unpin a peer, an operator's act recorded as federation.peer_remove: its envelopes are
    refused from now on; its row stays so what it sent stays attributable. UnknownPeer when no
    pinned peer has this id (nothing written)."""
    async with open_scope(runtime) as scope, scope.store.transaction():
        row = await scope.store.peer(hub_id)
        if row is None or row.removed_at is not None:
            raise UnknownPeer(f"No pinned peer hub has the id {hub_id}.", ["hub"])
        row.removed_at = scope.now
        details = {"hub": str(hub_id), "name": row.name, "fingerprint": row.fingerprint}
        await audit.append(
            scope, [audit.AuditEntry(action="federation.peer_remove", details=details)]
        )
        await scope.store.flush()
        return _peer(row)
