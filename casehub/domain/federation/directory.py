"""A peer hub's agency directory (pure): the `federation.directory` payload's shape, and how a
received directory is reconciled with the agencies this hub already knows.

A directory is the whole list of a peer's own agencies at `issuedAt`, not a change: applying
it lists the new ones, updates the known ones and delists the ones it leaves out. An agency
that left is kept, marked delisted, because requests and shares may refer to it. A peer can
only speak for agencies it listed first: an id this hub has as its own agency, or as another
peer's, is refused for that entry (a conflict), never overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from casehub.domain import validation
from casehub.domain.enums import AgencyKind
from casehub.domain.errors import ValidationFailed
from casehub.domain.federation.directory_keys import (
    KeyListing,
    is_accreditation_keys,
    key_entry,
    parse_keys,
    signing_keys_problem,
)
from casehub.domain.federation.envelopes import parse_moment
from casehub.domain.signatures.shapes import first_malformed, is_uuid, one_of

DIRECTORY = "federation.directory"
# A bound on one message (and on one transaction applying it): 1,000 entries of at most ~400
# bytes of JCS stay well under the payload's 512 KiB.
DIRECTORY_MAX_AGENCIES = 1000
AGENCY_NAME_MAX = 200  # AgencyRow.name
ENTRY_MEMBERS = ("code", "id", "jurisdiction", "kind", "name", "timezone")
# Optional members (casehub.domain.federation.directory_keys): a directory that carries none
# is the first version's, and stays valid.
ACCREDITATION_KEYS = "accreditationKeys"
SIGNING_KEYS = "signingKeys"


def _valid(rule: Any, value: object, **options: Any) -> bool:
    """Whether a domain.validation rule accepts the value (a string, first)."""
    if not isinstance(value, str):
        return False
    try:
        rule(value, **options)
    except ValidationFailed:
        return False
    return True


_ENTRY_RULES = {
    "id": is_uuid,
    "code": lambda value: _valid(validation.agency_code, value),
    "name": lambda value: _valid(
        validation.text, value, field=["name"], max_length=AGENCY_NAME_MAX
    ),
    "kind": one_of(kind.value for kind in AgencyKind),
    "jurisdiction": lambda value: _valid(validation.jurisdiction, value),
    "timezone": lambda value: _valid(validation.timezone, value),
}


@dataclass(frozen=True, slots=True)
class Listing:
    """One agency as a directory lists it (and as this hub stores it)."""

    id: UUID
    code: str
    name: str
    kind: AgencyKind
    jurisdiction: str
    timezone: str


@dataclass(frozen=True, slots=True)
class Directory:
    """A checked directory: when the peer issued it, its agencies, their accredited keys and
    the peer hub's accreditation JWKS (None: the directory carries none)."""

    issued_at: datetime
    agencies: tuple[Listing, ...]
    keys: tuple[KeyListing, ...] = ()
    accreditation_keys: Mapping[str, Any] | None = None


def check_directory(payload: Mapping[str, object]) -> str | None:
    """Why a payload is not a directory (a phrase naming the member), or None. Exactly
    {"issuedAt", "agencies"} and optionally "accreditationKeys" (a JWKS); at most
    DIRECTORY_MAX_AGENCIES entries, each exactly the members of ENTRY_MEMBERS under the rules
    an agency registered here obeys, and optionally "signingKeys"; ids and codes unique within
    the directory, key ids and thumbprints too; keys only with accreditationKeys."""
    rules = {"issuedAt": _is_moment, "agencies": _is_list}
    if ACCREDITATION_KEYS in payload:
        rules[ACCREDITATION_KEYS] = is_accreditation_keys
    bad = first_malformed(payload, rules)
    if bad is not None:
        return f"member {bad!r} is missing, unknown or malformed"
    agencies = payload["agencies"]
    assert isinstance(agencies, list)  # checked above
    if len(agencies) > DIRECTORY_MAX_AGENCIES:
        return f"'agencies' lists more than {DIRECTORY_MAX_AGENCIES} agencies"
    ids: set[str] = set()
    codes: set[str] = set()
    key_ids: set[str] = set()
    thumbprints: set[str] = set()
    for index, entry in enumerate(agencies):
        if not isinstance(entry, dict):
            return f"agencies[{index}] is not an object"
        bad = first_malformed(
            {name: value for name, value in entry.items() if name != SIGNING_KEYS}, _ENTRY_RULES
        )
        if bad is not None:
            return f"agencies[{index}] member {bad!r} is missing, unknown or malformed"
        if entry["id"] in ids:
            return f"agencies[{index}] repeats the id {entry['id']}"
        if entry["code"] in codes:
            return f"agencies[{index}] repeats the code {entry['code']}"
        ids.add(entry["id"])
        codes.add(entry["code"])
        if SIGNING_KEYS in entry:
            problem = signing_keys_problem(index, entry[SIGNING_KEYS], key_ids, thumbprints)
            if problem is not None:
                return problem
    if key_ids and ACCREDITATION_KEYS not in payload:
        return f"signing keys come without {ACCREDITATION_KEYS!r}"
    return None


def _is_moment(value: object) -> bool:
    return parse_moment(value) is not None


def _is_list(value: object) -> bool:
    return isinstance(value, list)


def parse_directory(payload: Mapping[str, Any]) -> Directory:
    """A payload that passed check_directory, as values."""
    issued_at = parse_moment(payload["issuedAt"])
    assert issued_at is not None  # checked
    entries = payload["agencies"]
    return Directory(
        issued_at,
        tuple(
            Listing(
                id=UUID(entry["id"]),
                code=entry["code"],
                name=entry["name"],
                kind=AgencyKind(entry["kind"]),
                jurisdiction=entry["jurisdiction"],
                timezone=entry["timezone"],
            )
            for entry in entries
        ),
        tuple(
            key
            for entry in entries
            for key in parse_keys(UUID(entry["id"]), entry.get(SIGNING_KEYS, ()))
        ),
        payload.get(ACCREDITATION_KEYS),
    )


def directory_payload(
    issued_at: str,
    agencies: Sequence[Listing],
    keys: Sequence[KeyListing] = (),
    accreditation_keys: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The payload of a directory (`issued_at` in wire form, casehub.domain.federation
    .envelopes.format_moment): with `accreditation_keys`, every agency lists its `keys`
    (an empty list when it has none), and the JWKS goes at the top."""
    payload: dict[str, Any] = {"issuedAt": issued_at, "agencies": []}
    keys_of: dict[UUID, list[dict[str, Any]]] = {}
    for key in keys:
        keys_of.setdefault(key.agency_id, []).append(key_entry(key))
    for agency in agencies:
        entry: dict[str, Any] = {
            "id": str(agency.id),
            "code": agency.code,
            "name": agency.name,
            "kind": agency.kind.value,
            "jurisdiction": agency.jurisdiction,
            "timezone": agency.timezone,
        }
        if accreditation_keys is not None:
            entry[SIGNING_KEYS] = keys_of.get(agency.id, [])
        payload["agencies"].append(entry)
    if accreditation_keys is not None:
        payload[ACCREDITATION_KEYS] = dict(accreditation_keys)
    return payload


@dataclass(frozen=True, slots=True)
class Known:
    """An agency this hub holds: whose it is (None: this hub's own), and as listed."""

    listing: Listing
    home_hub_id: UUID | None
    delisted: bool


class Refusal(StrEnum):
    """Why one entry of a directory is not applied."""

    LOCAL_AGENCY = "LOCAL_AGENCY"  # the id is one of this hub's own agencies
    OTHER_HUB = "OTHER_HUB"  # the id is an agency another peer listed first
    CODE_TAKEN = "CODE_TAKEN"  # another agency of the same peer holds the code here


@dataclass(frozen=True, slots=True)
class Conflict:
    """An entry refused, and why."""

    listing: Listing
    refusal: Refusal
    home_hub_id: UUID | None = None  # the hub the id belongs to (OTHER_HUB)


@dataclass(frozen=True, slots=True)
class Plan:
    """What applying a directory changes."""

    added: tuple[Listing, ...]
    updated: tuple[Listing, ...]  # changed members, or listed again after being delisted
    delisted: tuple[UUID, ...]
    conflicts: tuple[Conflict, ...]


def reconcile(
    peer: UUID,
    directory: Directory,
    by_id: Mapping[UUID, Known],
    of_peer: Mapping[UUID, Known],
) -> Plan:
    """What to change so that this hub holds the peer's directory. `by_id`: the agencies this
    hub holds under the directory's ids (whoever's); `of_peer`: every agency of this peer."""
    codes = {known.listing.code: agency_id for agency_id, known in of_peer.items()}
    added: list[Listing] = []
    updated: list[Listing] = []
    conflicts: list[Conflict] = []
    for listing in directory.agencies:
        known = by_id.get(listing.id)
        if known is not None and known.home_hub_id is None:
            conflicts.append(Conflict(listing, Refusal.LOCAL_AGENCY))
            continue
        if known is not None and known.home_hub_id != peer:
            conflicts.append(Conflict(listing, Refusal.OTHER_HUB, known.home_hub_id))
            continue
        holder = codes.get(listing.code)
        if holder is not None and holder != listing.id:
            conflicts.append(Conflict(listing, Refusal.CODE_TAKEN, peer))
            continue
        if known is None:
            added.append(listing)
        elif known.listing != listing or known.delisted:
            updated.append(listing)
    listed = {listing.id for listing in directory.agencies}
    delisted = tuple(
        agency_id
        for agency_id, known in of_peer.items()
        if agency_id not in listed and not known.delisted
    )
    return Plan(tuple(added), tuple(updated), delisted, tuple(conflicts))


def is_newer(issued_at: datetime, last_applied: datetime | None) -> bool:
    """Whether a directory issued at `issued_at` replaces the last one applied: a directory
    issued at the same moment or earlier (delivered late, or again) is ignored, so an older
    list never undoes a newer one whatever the order of arrival."""
    return last_applied is None or issued_at > last_applied
