"""The cases page read source by source (persistence.cases.sight.seen_page) returns exactly
what the single-condition query did: the same ids in the same order on every page, after every
cursor (and read backward from it) and under every filter the page takes, on randomized data
with owned, shared (FULL, METADATA, expired, revoked), linked (every request status) and
invisible cases."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import insert, select
from sqlmodel import col

from casehub.domain.enums import CaseCategory, CaseStatus, ShareScope, Tlp
from casehub.domain.paging import KeyRange
from casehub.domain.requests.transitions import RequestStatus
from casehub.persistence.cases.sight import Sight, sees
from casehub.persistence.tables import (
    CaseRow,
    CaseShareRow,
    CooperationRequestRow,
    PrincipalRow,
)
from casehub.services.cases.cases import LINK_STATUSES, OWNER_ONLY_MARKINGS
from casehub.services.runtime import Runtime, open_scope
from tests.conftest import World

pytestmark = pytest.mark.postgres

CASES = 300
AGENCIES = 4
# Few values of each filtered column, so that every filter matches a good share of the cases.
STATUSES = (CaseStatus.OPEN.value, CaseStatus.CLOSED.value)
CATEGORIES = (CaseCategory.FRAUD.value, CaseCategory.CYBERCRIME.value)
TLPS = tuple(tlp.value for tlp in Tlp)


def _old_page(
    viewer: UUID,
    now: datetime,
    *,
    first: int,
    after: UUID | None,
    filters: dict[str, Any],
    owned_only: bool | None,
    among: Iterable[UUID] | None,
) -> Any:
    """The oracle: the page query as it was before it was read source by source."""
    sight = Sight(viewer, now, tuple(LINK_STATUSES), tuple(OWNER_ONLY_MARKINGS))
    statement = select(CaseRow).where(sees(sight), *_old_filters(viewer, filters, owned_only))
    if among is not None:
        statement = statement.where(col(CaseRow.id).in_(list(among)))
    if after is not None:
        statement = statement.where(col(CaseRow.id) < after)
    return statement.order_by(col(CaseRow.id).desc()).limit(first)


def _old_filters(viewer: UUID, filters: dict[str, Any], owned_only: bool | None) -> list[Any]:
    clauses = [getattr(CaseRow, name) == value for name, value in filters.items()]
    if owned_only is True:
        clauses.append(col(CaseRow.owner_agency_id) == viewer)
    elif owned_only is False:
        clauses.append(col(CaseRow.owner_agency_id) != viewer)
    return clauses


async def _principals(runtime: Runtime, agencies: list[UUID]) -> dict[UUID, UUID]:
    async with open_scope(runtime) as scope:
        rows = await scope.store.session.execute(
            select(col(PrincipalRow.agency_id), col(PrincipalRow.id)).where(
                col(PrincipalRow.agency_id).in_(agencies)
            )
        )
        return {agency: principal for agency, principal in rows}


async def _seed(runtime: Runtime, world: World, rng: random.Random) -> tuple[list[UUID], datetime]:
    """Agencies, and cases among them shared and linked at random; the sight's `now`."""
    agencies = [(await world.agency("VQ")).uuid for _ in range(AGENCIES)]
    principals = await _principals(runtime, agencies)
    now = datetime.now(UTC)
    cases, shares, requests = [], [], []
    for number in range(CASES):
        owner = rng.choice(agencies)
        case_id = uuid.UUID(int=rng.getrandbits(128))
        cases.append(
            {
                "id": case_id,
                "owner_agency_id": owner,
                "reference": f"VQ-{number}",
                "title": f"Case {number}",
                "summary": b"sealed",
                "category": rng.choice(CATEGORIES),
                "status": rng.choice(STATUSES),
                "tlp": rng.choice(TLPS),
                "handling_code": "H1",
                "created_by": principals[owner],
                "created_at": now,
                "updated_at": now,
            }
        )
        # Shares to random agencies (the owner too, as a stray row may be), some of them
        # twice: active, expired, revoked, not yet expired; FULL or METADATA.
        for _ in range(rng.choice((0, 0, 1, 2, 3))):
            expires = rng.choice((None, now - timedelta(days=1), now + timedelta(days=1)))
            revoked = rng.choice((None, None, now - timedelta(hours=1)))
            shares.append(
                {
                    "id": uuid.uuid4(),
                    "case_id": case_id,
                    "agency_id": rng.choice(agencies),
                    "scope": rng.choice((ShareScope.FULL.value, ShareScope.METADATA.value)),
                    "expires_at": expires,
                    "revoked_at": revoked,
                    "created_by": principals[owner],
                    "created_at": now,
                }
            )
        if shares and shares[-1]["case_id"] == case_id and rng.random() < 0.3:
            # The same grant twice, both in force (a race's leftover): still one case.
            shares.append({**shares[-1], "id": uuid.uuid4(), "revoked_at": None})
        for _ in range(rng.choice((0, 0, 1, 2))):
            requester = rng.choice(agencies)
            requests.append(_request(principals[requester], requester, rng, agencies, case_id))
    # Requests linking no case, which a newest-first walk of the index meets first.
    requests += [_request(principals[a], a, rng, agencies, None) for a in agencies]
    async with open_scope(runtime) as scope:
        session = scope.store.session
        await session.execute(insert(CaseRow), cases)
        await session.execute(insert(CaseShareRow), shares)
        await session.execute(insert(CooperationRequestRow), requests)
        await session.commit()
    return agencies, now


def _request(
    created_by: UUID, requester: UUID, rng: random.Random, agencies: list[UUID], case: UUID | None
) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "id": uuid.uuid4(),
        "requester_agency_id": requester,
        "requested_agency_id": rng.choice(agencies),
        "kind": "INFORMATION_REQUEST",
        "priority": "ROUTINE",
        "title": "Request",
        "body": b"sealed",
        "particulars": b"sealed",
        "case_id": case,
        "status": rng.choice(list(RequestStatus)).value,
        "created_by": created_by,
        "created_at": now,
        "updated_at": now,
    }


@dataclass(frozen=True, slots=True)
class Query:
    """The page's narrowing: column filters, owned or not, an id set."""

    filters: dict[str, Any] = field(default_factory=dict)
    owned_only: bool | None = None
    among: list[UUID] | None = None


def _queries(rng: random.Random, every_id: list[UUID]) -> list[Query]:
    """None, each column, owned or not, id sets (one naming no case), and mixes."""
    return [
        Query(),
        Query(owned_only=True),
        Query(owned_only=False),
        Query({"status": STATUSES[0]}),
        Query({"category": CATEGORIES[1]}, owned_only=False),
        Query({"tlp": Tlp.AMBER_STRICT.value}),
        Query({"tlp": Tlp.GREEN.value, "status": STATUSES[1]}),
        Query(among=[]),
        Query(among=rng.sample(every_id, 40)),
        Query({"category": CATEGORIES[0]}, owned_only=True, among=rng.sample(every_id, 80)),
        Query(owned_only=False, among=[*rng.sample(every_id, 120), uuid.uuid4()]),
    ]


async def _old(
    store: Any, viewer: UUID, now: datetime, query: Query, first: int, after: UUID | None
) -> list[UUID]:
    statement = _old_page(
        viewer,
        now,
        first=first,
        after=after,
        filters=query.filters,
        owned_only=query.owned_only,
        among=query.among,
    )
    return [row.id for row in (await store.session.execute(statement)).scalars()]


async def _new(
    store: Any, viewer: UUID, now: datetime, query: Query, keys: KeyRange[UUID]
) -> list[UUID]:
    rows = await store.visible_cases_page(
        viewer_agency_id=viewer,
        now=now,
        keys=keys,
        filters=query.filters,
        owned_only=query.owned_only,
        link_statuses=LINK_STATUSES,
        owner_only=OWNER_ONLY_MARKINGS,
        among=query.among,
    )
    return [row.id for row in rows]


async def _cursors(
    store: Any, viewer: UUID, now: datetime, query: Query, first: int, others: list[UUID]
) -> list[UUID | None]:
    """Where pages start: the first page, some of the pages after it (the last id of a page
    before, as a client's cursor), and ids no page ends on (another's cases, the lowest id)."""
    everything = await _old(store, viewer, now, query, CASES, None)
    ends = everything[first - 1 :: first]
    rng = random.Random(first)
    return [None, *rng.sample(ends, min(len(ends), 12)), *others, uuid.UUID(int=0)]


async def _ids(store: Any, agencies: list[UUID]) -> list[UUID]:
    statement = select(col(CaseRow.id)).where(col(CaseRow.owner_agency_id).in_(agencies))
    return list((await store.session.execute(statement)).scalars())


@pytest.mark.parametrize("first", [1, 7, 50])
async def test_every_page_matches_the_old_query(runtime: Runtime, world: World, first: int) -> None:
    rng = random.Random(13 + first)
    agencies, now = await _seed(runtime, world, rng)
    pages = 0
    async with open_scope(runtime) as scope:
        every_id = await _ids(scope.store, agencies)
        for viewer in agencies:
            for query in _queries(rng, every_id):
                # Cases of the world (visible or not) and ids naming none, as cursors too.
                others = [*rng.sample(every_id, 3), uuid.UUID(int=rng.getrandbits(128))]
                everything = await _old(scope.store, viewer, now, query, CASES, None)
                for after in await _cursors(scope.store, viewer, now, query, first, others):
                    wanted = await _old(scope.store, viewer, now, query, first, after)
                    keys = KeyRange(first, True, below=after)
                    got = await _new(scope.store, viewer, now, query, keys)
                    assert got == wanted, (viewer, query, first, after)
                    # Read backward from the same cursor (a `before`): the oldest cases above it.
                    above = sorted(each for each in everything if after is None or each > after)
                    keys = KeyRange(first, False, above=after)
                    got = await _new(scope.store, viewer, now, query, keys)
                    assert got == above[:first], (viewer, query, first, after)
                    pages += 2
    assert pages > 100


async def test_counts_match_the_old_query(runtime: Runtime, world: World) -> None:
    rng = random.Random(31)
    agencies, now = await _seed(runtime, world, rng)
    counted = []
    async with open_scope(runtime) as scope:
        every_id = await _ids(scope.store, agencies)
        for viewer in agencies:
            for query in _queries(rng, every_id):
                wanted = await _old(scope.store, viewer, now, query, CASES, None)
                count = await scope.store.count_visible_cases(
                    viewer_agency_id=viewer,
                    now=now,
                    filters=query.filters,
                    owned_only=query.owned_only,
                    link_statuses=LINK_STATUSES,
                    owner_only=OWNER_ONLY_MARKINGS,
                    among=query.among,
                )
                assert count == len(wanted), (viewer, query)
                counted.append(count)
    assert max(counted) > 0
