"""A peer's agencies' accredited signing keys in its directory (pure): the optional members of
the `federation.directory` payload that carry them, and how the keys a directory lists are
reconciled with the ones this hub already holds.

A peer lists, per agency, the keys its hub accredited (with the revocation of each, if any),
and once, at the top, its hub's accreditation JWKS. The receiver checks each key's statements
under that JWKS (casehub.crypto.statements.check_key_statements) before it stores the key, so
that a step the agency signed can later be verified here as at its home hub. The rules below
are those of keys this hub knows already: a key belongs to the first agency and hub that
listed it, its accreditation never changes, a revocation is never taken back, and a key its
hub no longer lists is kept (it may have signed steps), marked withdrawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from casehub.domain.federation.envelopes import format_moment, parse_moment
from casehub.domain.signatures.instants import parse_instant
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.shapes import (
    Rule,
    first_malformed,
    is_thumbprint,
    is_uuid,
    one_of,
)
from casehub.domain.signatures.statements import STATEMENT_MAX_BYTES

# As many keys as an agency may hold at its own hub (casehub.services.caps
# .SIGNING_KEYS_PER_AGENCY; a test keeps the two equal).
KEYS_PER_AGENCY_MAX = 100
# A JWK's text as a hub stores it (casehub.services.agencies.signing_keys.PUBLIC_KEY_MAX).
PUBLIC_KEY_MAX = 8 * 1024
# A signature's text (casehub.crypto.agency_keys.SIGNATURE_MAX_CHARS).
SIGNATURE_MAX = 6_000
# The hub keys a verifier reads through (casehub.crypto.statements.HUB_KEYS_MAX).
ACCREDITATION_KEYS_MAX = 32


class KeyRefusal(StrEnum):
    """Why one key a directory lists is not applied (the `refusal` of its
    federation.directory_conflict)."""

    # Its statements do not check out: the JWK is not the key the entry names, the
    # accreditation is not signed by the sender's accreditation keys or names another key,
    # agency or algorithm, or the revocation is not signed or names another key or agency.
    KEY_NOT_VERIFIED = "KEY_NOT_VERIFIED"
    # Its id is a key of this hub's own, or of another hub or agency; or another key of the
    # same hub has its thumbprint here.
    KEY_TAKEN = "KEY_TAKEN"
    # This hub holds the key with another accreditation (a key is accredited once) or another
    # revocation, or the directory drops its revocation (a revocation is final).
    KEY_CHANGED = "KEY_CHANGED"


# Reasons of KEY_NOT_VERIFIED beside casehub.domain.signatures.verdicts': the entry's
# thumbprint or algorithm is not its JWK's, or the accreditation's hub key is this hub's own
# (a peer's key is never accredited by this hub).
THUMBPRINT = "thumbprint"
OWN_HUB_KEY = "this hub's own accreditation key"


def _text(limit: int) -> Rule:
    return lambda value: isinstance(value, str) and 0 < len(value) <= limit


_STATEMENT = _text(STATEMENT_MAX_BYTES)
_SIGNATURE = _text(SIGNATURE_MAX)
_ACCREDITATION_RULES: Mapping[str, Rule] = {
    "statement": _STATEMENT,
    "signature": _SIGNATURE,
    "hubKey": is_thumbprint,
}
_REVOCATION_RULES: Mapping[str, Rule] = {"statement": _STATEMENT, "signature": _SIGNATURE}


def _object_of(rules: Mapping[str, Rule]) -> Rule:
    return lambda value: isinstance(value, dict) and first_malformed(value, rules) is None


_KEY_RULES: Mapping[str, Rule] = {
    "id": is_uuid,
    "publicKey": _text(PUBLIC_KEY_MAX),
    "thumbprint": is_thumbprint,
    "algorithm": one_of(SigningAlgorithm),
    "registeredAt": lambda value: parse_moment(value) is not None,
    "accreditation": _object_of(_ACCREDITATION_RULES),
    "revocation": lambda value: value is None or _object_of(_REVOCATION_RULES)(value),
}


def is_accreditation_keys(value: object) -> bool:
    """Whether `value` is a JWKS as a hub serves its accreditation keys: exactly {"keys"},
    1 to ACCREDITATION_KEYS_MAX objects, each with a thumbprint `kid` (the keys themselves are
    read when a key is checked against them)."""
    if not isinstance(value, dict) or set(value) != {"keys"}:
        return False
    keys = value["keys"]
    return (
        isinstance(keys, list)
        and 0 < len(keys) <= ACCREDITATION_KEYS_MAX
        and all(isinstance(jwk, dict) and is_thumbprint(jwk.get("kid")) for jwk in keys)
    )


def signing_keys_problem(
    index: int, keys: object, ids: set[str], thumbprints: set[str]
) -> str | None:
    """Why agencies[index]'s `signingKeys` is malformed (a phrase), or None: a list of at most
    KEYS_PER_AGENCY_MAX keys of exactly the members of _KEY_RULES, their ids and thumbprints
    unique within the directory (`ids`, `thumbprints`: those seen so far, added to)."""
    where = f"agencies[{index}].signingKeys"
    if not isinstance(keys, list):
        return f"{where} is not a list"
    if len(keys) > KEYS_PER_AGENCY_MAX:
        return f"{where} lists more than {KEYS_PER_AGENCY_MAX} keys"
    for position, key in enumerate(keys):
        if not isinstance(key, dict):
            return f"{where}[{position}] is not an object"
        bad = first_malformed(key, _KEY_RULES)
        if bad is not None:
            return f"{where}[{position}] member {bad!r} is missing, unknown or malformed"
        if key["id"] in ids:
            return f"{where}[{position}] repeats the key id {key['id']}"
        if key["thumbprint"] in thumbprints:
            return f"{where}[{position}] repeats the thumbprint {key['thumbprint']}"
        ids.add(key["id"])
        thumbprints.add(key["thumbprint"])
    return None


@dataclass(frozen=True, slots=True)
class KeyListing:
    """One key as a directory lists it (and as this hub stores it): the hub's statements about
    it as text, exactly as signed."""

    id: UUID
    agency_id: UUID
    public_jwk: str
    thumbprint: str
    algorithm: SigningAlgorithm
    registered_at: datetime
    accreditation: str
    accreditation_signature: str
    accreditation_key: str
    revocation: str | None = None
    revocation_signature: str | None = None


def parse_keys(agency_id: UUID, keys: Sequence[Mapping[str, Any]]) -> tuple[KeyListing, ...]:
    """An entry's `signingKeys` that passed signing_keys_problem, as values."""
    listings = []
    for key in keys:
        registered_at = parse_moment(key["registeredAt"])
        assert registered_at is not None  # checked
        revocation = key["revocation"]
        listings.append(
            KeyListing(
                id=UUID(key["id"]),
                agency_id=agency_id,
                public_jwk=key["publicKey"],
                thumbprint=key["thumbprint"],
                algorithm=SigningAlgorithm(key["algorithm"]),
                registered_at=registered_at,
                accreditation=key["accreditation"]["statement"],
                accreditation_signature=key["accreditation"]["signature"],
                accreditation_key=key["accreditation"]["hubKey"],
                revocation=None if revocation is None else revocation["statement"],
                revocation_signature=None if revocation is None else revocation["signature"],
            )
        )
    return tuple(listings)


def key_entry(key: KeyListing) -> dict[str, Any]:
    """A key's `signingKeys` entry, as a hub publishes one of its agencies' keys."""
    revocation = None
    if key.revocation is not None:
        revocation = {"statement": key.revocation, "signature": key.revocation_signature}
    return {
        "id": str(key.id),
        "publicKey": key.public_jwk,
        "thumbprint": key.thumbprint,
        "algorithm": key.algorithm.value,
        "registeredAt": format_moment(key.registered_at),
        "accreditation": {
            "statement": key.accreditation,
            "signature": key.accreditation_signature,
            "hubKey": key.accreditation_key,
        },
        "revocation": revocation,
    }


@dataclass(frozen=True, slots=True)
class KeyTimes:
    """What a key's checked statements say, as this hub stores it beside them."""

    not_before: datetime
    not_after: datetime
    accredited_at: datetime
    revoked_at: datetime | None = None
    revocation_reason: str | None = None


def key_times(accreditation: Mapping[str, Any], revocation: Mapping[str, Any] | None) -> KeyTimes:
    """The moments of a checked accreditation (casehub-accreditation/1) and revocation."""

    def moment(statement: Mapping[str, Any], member: str) -> datetime:
        parsed = parse_instant(statement[member])
        assert parsed is not None  # a checked statement's instants are well formed
        return parsed

    return KeyTimes(
        not_before=moment(accreditation, "notBefore"),
        not_after=moment(accreditation, "notAfter"),
        accredited_at=moment(accreditation, "issuedAt"),
        revoked_at=None if revocation is None else moment(revocation, "revokedAt"),
        revocation_reason=None if revocation is None else str(revocation["reason"]),
    )


@dataclass(frozen=True, slots=True)
class KnownKey:
    """A peer agency's key this hub holds: whose it is, and whether its hub still lists it."""

    listing: KeyListing
    home_hub_id: UUID
    withdrawn: bool


@dataclass(frozen=True, slots=True)
class KeyConflict:
    """A key refused, and why (`reason`: a verdict, for KEY_NOT_VERIFIED)."""

    listing: KeyListing
    refusal: KeyRefusal
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class KeyPlan:
    """What applying a directory's keys changes."""

    added: tuple[KeyListing, ...]
    # Revoked since, or listed again after being withdrawn (the listing as it now stands).
    updated: tuple[KeyListing, ...]
    withdrawn: tuple[UUID, ...]
    conflicts: tuple[KeyConflict, ...]


def _same_but_revocation(known: KeyListing, listed: KeyListing) -> bool:
    return replace(known, revocation=None, revocation_signature=None) == replace(
        listed, revocation=None, revocation_signature=None
    )


def reconcile_keys(
    peer: UUID,
    verified: Sequence[KeyListing],
    listed_ids: Set[UUID],
    by_id: Mapping[UUID, KnownKey],
    local_ids: Set[UUID],
    of_peer: Mapping[UUID, KnownKey],
) -> KeyPlan:
    """What to change so that this hub holds the keys a peer's directory lists. `verified`:
    the listed keys whose statements checked out; `listed_ids`: every key id the applied
    entries list (checked or not: a known key whose new statements fail is kept as it was,
    not withdrawn); `by_id`: the peers' keys this hub holds under those ids (whoever's);
    `local_ids`: this hub's own keys under those ids; `of_peer`: every key of this peer."""
    thumbprints = {known.listing.thumbprint: key_id for key_id, known in of_peer.items()}
    added: list[KeyListing] = []
    updated: list[KeyListing] = []
    conflicts: list[KeyConflict] = []
    for key in verified:
        known = by_id.get(key.id)
        holder = thumbprints.get(key.thumbprint)
        if (
            key.id in local_ids
            or (known is not None and known.home_hub_id != peer)
            or (known is not None and known.listing.agency_id != key.agency_id)
            or (holder is not None and holder != key.id)
        ):
            conflicts.append(KeyConflict(key, KeyRefusal.KEY_TAKEN))
        elif known is None:
            added.append(key)
        elif not _same_but_revocation(known.listing, key) or (
            known.listing.revocation is not None
            and (known.listing.revocation, known.listing.revocation_signature)
            != (key.revocation, key.revocation_signature)
        ):
            conflicts.append(KeyConflict(key, KeyRefusal.KEY_CHANGED))
        elif known.listing != key or known.withdrawn:
            updated.append(key)
    withdrawn = tuple(
        key_id
        for key_id, known in of_peer.items()
        if key_id not in listed_ids and not known.withdrawn
    )
    return KeyPlan(tuple(added), tuple(updated), withdrawn, tuple(conflicts))
