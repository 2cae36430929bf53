"""Blind indexes of identifiers: written with each identifier, searched without decrypting.

A search computes the wanted identifier's blind index under the key of every agency whose
cases the caller may decrypt (its own, and those sharing a case with it in FULL), looks the
digests up among the cases it may decrypt alone, and then decrypts only the candidates, to
drop any false positive.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from casehub.crypto import DataKey, blind_index, match_token
from casehub.domain.deconfliction.matching import canonical_value, match_material
from casehub.domain.enums import IdentifierKind, ShareScope
from casehub.domain.errors import ValidationFailed
from casehub.domain.identifiers import IdentifierInput, checked_identifier
from casehub.persistence.tables import IdentifierIndexRow, IdentifierRow
from casehub.services.cases.access import grants_for, may_read_protected, sight
from casehub.services.keys import data_keys
from casehub.services.protected import IDENTIFIER_VALUE
from casehub.services.runtime import Runtime, Scope, open_scope


def index_row(
    scope: Scope, row: IdentifierRow, item: IdentifierInput, owner_id: UUID, region: str | None
) -> IdentifierIndexRow:
    """The index row of a new identifier of an agency (its value read in `region`)."""
    material = match_material(item, default_region=region, field=["value"])
    return IdentifierIndexRow(
        identifier_id=row.id,
        subject_id=row.subject_id,
        case_id=row.case_id,
        agency_id=owner_id,
        blind_index=blind_index(scope.runtime.keys, owner_id, material),
        match_token=match_token(scope.runtime.keys, material),
    )


async def jurisdictions(scope: Scope, agency_ids: Sequence[UUID]) -> dict[UUID, str]:
    """Each agency's jurisdiction, the default region of the phone numbers it writes."""
    return {row.id: row.jurisdiction for row in await scope.store.agencies_by_ids(agency_ids)}


def _stored_canonical(row: IdentifierRow, value: str, region: str | None) -> str | None:
    """A stored identifier's canonical form (None if it has none under today's rules)."""
    item = IdentifierInput(IdentifierKind(row.kind), value, row.platform, row.chain)
    try:
        return canonical_value(item, default_region=region, field=["value"])
    except ValidationFailed:
        return None


async def cases_holding(scope: Scope, item: IdentifierInput, field: Sequence[str]) -> set[UUID]:
    """The cases whose protected fields the caller may read that hold this identifier."""
    viewer = scope.caller().agency_id
    region = (await jurisdictions(scope, [viewer])).get(viewer)
    checked = checked_identifier(item, field=field, default_region=region)
    material = match_material(checked, default_region=region, field=field)
    owners = {viewer, *await scope.store.sharing_owners(viewer, scope.now, ShareScope.FULL.value)}
    # Only index rows of cases the caller may decrypt: a value held only in one of an owner's
    # other cases (RED, unshared) is not even read, so it is found as fast as a fresh value and
    # the search never stands in for a hit check (its allowance, the RED opt-out, the notice).
    index = await scope.store.index_matches(
        [(owner, blind_index(scope.runtime.keys, owner, material)) for owner in sorted(owners)],
        sight(scope),
    )
    if not index:
        return set()
    cases = await scope.store.cases_by_ids({entry.case_id for entry in index})
    grants = await grants_for(scope, cases)
    readable = {
        case_id
        for case_id, grant in grants.items()
        if grant is not None and may_read_protected(scope, grant)
    }
    case_keys = await data_keys.viewer_keys(scope, readable)
    owner_of = {case.id: case.owner_agency_id for case in cases}
    regions = await jurisdictions(scope, sorted(set(owner_of.values())))
    wanted = canonical_value(checked, default_region=region, field=field)
    candidates = [entry.identifier_id for entry in index if entry.case_id in readable]
    found: set[UUID] = set()
    for row in await scope.store.identifiers_by_ids(candidates):
        key, owner = case_keys.get(row.case_id), owner_of[row.case_id]
        if key is None or row.kind != checked.kind.value:
            continue
        value = _open(row, key, owner)
        if _stored_canonical(row, value, regions.get(owner)) == wanted:
            found.add(row.case_id)
    return found


def _open(row: IdentifierRow, key: DataKey, owner: UUID) -> str:
    """An identifier's value, decrypted only to confirm a blind-index match (never served)."""
    return IDENTIFIER_VALUE.open(key, row.id, owner, row.value).decode("utf-8")


async def index_missing(runtime: Runtime, *, batch: int = 500) -> tuple[int, int]:
    """Index the identifiers written before blind indexes existed (resumable, in batches of
    one transaction each); returns (indexed, skipped: values with no canonical form)."""
    indexed = skipped = 0
    after: UUID | None = None
    while True:
        async with open_scope(runtime) as scope, scope.store.transaction():
            rows = await scope.store.unindexed_identifiers(after=after, limit=batch)
            if not rows:
                return indexed, skipped
            after = rows[-1].id
            cases = await scope.store.cases_by_ids({row.case_id for row in rows})
            owner_of = {case.id: case.owner_agency_id for case in cases}
            regions = await jurisdictions(scope, sorted(set(owner_of.values())))
            case_keys: dict[UUID, DataKey | None] = {}
            for owner in set(owner_of.values()):
                mine = [case_id for case_id, holder in owner_of.items() if holder == owner]
                case_keys.update(await data_keys.agency_keys(scope, mine, owner))
            for row in rows:
                key, owner = case_keys.get(row.case_id), owner_of[row.case_id]
                if key is None:
                    skipped += 1
                    continue
                value = _open(row, key, owner)
                item = IdentifierInput(IdentifierKind(row.kind), value, row.platform, row.chain)
                try:
                    scope.store.add(index_row(scope, row, item, owner, regions.get(owner)))
                    indexed += 1
                except ValidationFailed:
                    skipped += 1
            await scope.store.flush()
