"""Peer agencies' signing keys at this hub: the keys a peer's directory lists, each checked
against the peer hub's accreditation keys before it is stored (in the transaction that applies
the directory), and the peer's accreditation JWKS handed to whoever verifies a step one of its
agencies signed.

The trust chain: the operator pinned the peer's hub identity out of band; the directory is
signed by that identity; it carries the peer's accreditation JWKS; each key's accreditation
must verify under that JWKS (casehub.crypto.statements.check_key_statements, the check every
signed step's key gets) and name the key, its agency and its algorithm. This hub's own
accreditation keys are taken out of a peer's JWKS: a peer's agency key is never accredited by
this hub, so a statement this hub signed can never stand for a peer's key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence, Set
from dataclasses import replace
from typing import Any
from uuid import UUID

import rfc8785

from casehub.crypto.agency_keys import AgencyPublicKey, KeyFormatError
from casehub.crypto.statements import check_key_statements
from casehub.domain.federation.directory import Directory
from casehub.domain.federation.directory_keys import (
    OWN_HUB_KEY,
    THUMBPRINT,
    KeyConflict,
    KeyListing,
    KeyPlan,
    KeyRefusal,
    KeyTimes,
    KnownKey,
    key_times,
    reconcile_keys,
)
from casehub.domain.signatures import verdicts
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.statements import statement_bytes
from casehub.persistence.store import Store
from casehub.persistence.tables import RemoteSigningKeyRow
from casehub.services.runtime import Runtime, Scope


def own_accreditation_kids(runtime: Runtime) -> frozenset[str]:
    """The thumbprints of this hub's accreditation keys (every one in its keyring)."""
    return frozenset(str(jwk["kid"]) for jwk in runtime.keys.accreditation_public_keys()["keys"])


def peer_jwks(jwks: Mapping[str, Any], own: Set[str]) -> dict[str, Any]:
    """A peer's accreditation JWKS without this hub's own accreditation keys."""
    return {"keys": [jwk for jwk in jwks["keys"] if jwk.get("kid") not in own]}


def check_listed_key(
    key: KeyListing, hub_keys: Mapping[str, Any], own: Set[str]
) -> tuple[KeyListing, KeyTimes] | str:
    """A listed key whose statements check out under the peer's JWKS (its JWK as this hub
    stores JWKs: the public members, canonical) and what they state; else why not: a verdict
    reason, THUMBPRINT, or OWN_HUB_KEY when this hub's own key is named as the accreditor."""
    if key.accreditation_key in own:
        return OWN_HUB_KEY
    try:
        public = AgencyPublicKey.from_jwk_text(key.public_jwk)
    except KeyFormatError:
        return verdicts.KEY
    if public.thumbprint != key.thumbprint or public.algorithm is not key.algorithm:
        return THUMBPRINT
    checked = check_key_statements(
        public,
        agency=str(key.agency_id),
        accreditation=key.accreditation,
        accreditation_signature=key.accreditation_signature,
        accreditation_key=key.accreditation_key,
        revocation=key.revocation,
        revocation_signature=key.revocation_signature,
        hub_keys=hub_keys,
    )
    if checked.reason is not None:
        return checked.reason
    assert checked.accreditation is not None  # checked out
    stored = replace(key, public_jwk=statement_bytes(public.to_jwk()).decode("ascii"))
    return stored, key_times(checked.accreditation, checked.revocation)


def _listing(row: RemoteSigningKeyRow) -> KeyListing:
    return KeyListing(
        id=row.id,
        agency_id=row.agency_id,
        public_jwk=row.public_jwk,
        thumbprint=row.thumbprint,
        algorithm=SigningAlgorithm(row.algorithm),
        registered_at=row.registered_at,
        accreditation=row.accreditation,
        accreditation_signature=row.accreditation_signature,
        accreditation_key=row.accreditation_key,
        revocation=row.revocation,
        revocation_signature=row.revocation_signature,
    )


def _known(row: RemoteSigningKeyRow) -> KnownKey:
    return KnownKey(_listing(row), row.home_hub_id, row.withdrawn_at is not None)


def _fields(key: KeyListing, times: KeyTimes, scope: Scope) -> dict[str, Any]:
    """A row's columns as a checked key states them (beside its id, agency and hub)."""
    return {
        "algorithm": key.algorithm.value,
        "thumbprint": key.thumbprint,
        "public_jwk": key.public_jwk,
        "registered_at": key.registered_at,
        "accreditation": key.accreditation,
        "accreditation_signature": key.accreditation_signature,
        "accreditation_key": key.accreditation_key,
        "not_before": times.not_before,
        "not_after": times.not_after,
        "accredited_at": times.accredited_at,
        "revocation": key.revocation,
        "revocation_signature": key.revocation_signature,
        "revoked_at": times.revoked_at,
        "revocation_reason": times.revocation_reason,
        "updated_at": scope.now,
        "withdrawn_at": None,
    }


async def apply_keys(scope: Scope, peer: UUID, directory: Directory, applied: Set[UUID]) -> KeyPlan:
    """Apply the keys a peer's directory lists for the agencies whose entries were applied
    (`applied`), inside the caller's transaction; record the directory's accreditation JWKS
    (this hub's keys left out) on the peer. A key is stored only when its statements check
    out under that JWKS; the plan's conflicts are every key refused, KEY_NOT_VERIFIED first."""
    own = own_accreditation_kids(scope.runtime)
    hub_keys: dict[str, Any] = {"keys": []}
    if directory.accreditation_keys is not None:
        hub_keys = peer_jwks(directory.accreditation_keys, own)
        await scope.store.set_peer_accreditation_keys(peer, rfc8785.dumps(hub_keys).decode("utf-8"))
    listed = [key for key in directory.keys if key.agency_id in applied]
    verified: list[KeyListing] = []
    times: dict[UUID, KeyTimes] = {}
    refused: list[KeyConflict] = []
    for key in listed:
        result = check_listed_key(key, hub_keys, own)
        if isinstance(result, str):
            refused.append(KeyConflict(key, KeyRefusal.KEY_NOT_VERIFIED, result))
        else:
            verified.append(result[0])
            times[key.id] = result[1]
    ids = [key.id for key in listed]
    own_rows = {row.id: row for row in await scope.store.remote_keys_of_hub(peer)}
    plan = reconcile_keys(
        peer,
        verified,
        set(ids),
        {row.id: _known(row) for row in await scope.store.remote_keys_by_ids(ids)},
        await scope.store.local_key_ids(ids),
        {key_id: _known(row) for key_id, row in own_rows.items()},
    )
    scope.store.add(
        *(
            RemoteSigningKeyRow(
                id=key.id,
                agency_id=key.agency_id,
                home_hub_id=peer,
                received_at=scope.now,
                **_fields(key, times[key.id], scope),
            )
            for key in plan.added
        )
    )
    for key in plan.updated:
        for name, value in _fields(key, times[key.id], scope).items():
            setattr(own_rows[key.id], name, value)
    for key_id in plan.withdrawn:
        own_rows[key_id].withdrawn_at = own_rows[key_id].updated_at = scope.now
    return replace(plan, conflicts=(*refused, *plan.conflicts))


async def peer_accreditation_keys(store: Store, hub_id: UUID) -> dict[str, Any] | None:
    """The peer hub's accreditation JWKS as its last directory gave it (this hub's own keys
    left out), or None when none came: the `hub_keys` to verify a step one of its agencies
    signed with (casehub.crypto.statements.verify_step), never this hub's own JWKS."""
    text = await store.peer_accreditation_keys(hub_id)
    if text is None:
        return None
    jwks: dict[str, Any] = json.loads(text)
    return jwks


async def remote_key_jwks(store: Store, key_id: UUID) -> dict[str, Any] | None:
    """The accreditation JWKS that a peer agency's key (by id) is verified under: its home
    hub's; None when no such remote key is held or its hub sent none."""
    rows: Sequence[RemoteSigningKeyRow] = await store.remote_keys_by_ids([key_id])
    return None if not rows else await peer_accreditation_keys(store, rows[0].home_hub_id)
