"""Use-cases on agencies: register them and list them."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from casehub.domain import paging
from casehub.domain import validation as check
from casehub.domain.enums import AgencyKind
from casehub.domain.errors import RemoteAgency, ValidationFailed
from casehub.domain.ids import new_id
from casehub.domain.paging import KeyRange
from casehub.domain.roles import Operation
from casehub.persistence.tables import AgencyRow
from casehub.services.audit import trail as audit
from casehub.services.paging import Listed, read_page
from casehub.services.runtime import Principal, Scope
from casehub.services.views import AgencyView


def agency_view(row: AgencyRow) -> AgencyView:
    """Render an agency row."""
    return AgencyView(
        id=row.id,
        code=row.code,
        name=row.name,
        jurisdiction=row.jurisdiction,
        kind=AgencyKind(row.kind),
        timezone=row.timezone,
        home_hub_id=row.home_hub_id,
        delisted=row.delisted_at is not None,
    )


def refuse_remote(row: AgencyRow, field: Sequence[str]) -> None:
    """RemoteAgency when the agency is a peer hub's: such an agency has no principals here
    and takes no shares, requests or notices until federation carries them."""
    if row.home_hub_id is not None:
        raise RemoteAgency(field)


async def register_agency(
    scope: Scope,
    *,
    code: str,
    name: str,
    jurisdiction: str,
    kind: AgencyKind,
    timezone: str = "UTC",
    as_operator: bool = False,
) -> AgencyView:
    """Register an agency (HUB_ADMIN, or the operator's CLI with as_operator=True)."""
    async with audit.mutation(scope, "agency.register") as entry:
        if not as_operator:
            scope.require(Operation.REGISTER_AGENCY)
        check.agency_code(code)
        check.text(name, field=["name"], max_length=200)
        check.jurisdiction(jurisdiction)
        check.timezone(timezone)
        if await scope.store.agency_by_code(code) is not None:
            raise ValidationFailed("An agency with this code exists already.", ["code"])
        row = AgencyRow(
            id=new_id(),
            code=code,
            name=name,
            jurisdiction=jurisdiction,
            kind=kind.value,
            timezone=timezone,
            created_at=scope.now,
        )
        scope.store.add(row)
        await scope.store.flush()
        entry.object_type, entry.object_id, entry.object_agency_id = "Agency", row.id, row.id
        entry.details = {"code": code}
    return agency_view(row)


def viewer(scope: Scope) -> Principal:
    """The authenticated principal, as the `viewer` field shows it (the role table)."""
    return scope.require(Operation.READ_DIRECTORY)


async def agencies_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, AgencyView]:
    """Agencies by id; the directory of agencies is open to every role (the role table)."""
    scope.require(Operation.READ_DIRECTORY)
    return {row.id: agency_view(row) for row in await scope.store.agencies_by_ids(ids)}


async def list_agencies(
    scope: Scope,
    *,
    first: int | None,
    after: UUID | None,
    last: int | None = None,
    before: UUID | None = None,
) -> Listed[AgencyView]:
    """A page of the agency directory ordered by id."""
    scope.require(Operation.READ_DIRECTORY)
    given = paging.window(first=first, after=after, last=last, before=before)

    async def render(rows: list[AgencyRow]) -> list[AgencyView]:
        return [agency_view(row) for row in rows]

    return await read_page(given, scope.store.agencies_page, render, descending=False)


async def count_agencies(scope: Scope) -> int:
    """How many agencies the directory holds."""
    scope.require(Operation.READ_DIRECTORY)
    return await scope.store.count_agencies()


async def agency_by_code(scope: Scope, code: str) -> AgencyView | None:
    """An agency by its code, for the operator's tools (the CLI and the demo act with no caller)."""
    row = await scope.store.agency_by_code(code)
    return None if row is None else agency_view(row)


async def all_agencies(scope: Scope) -> list[AgencyView]:
    """Every agency ordered by id, for the operator's `casehub agency list` (no caller)."""
    found: list[AgencyView] = []
    after: UUID | None = None
    while rows := await scope.store.agencies_page(KeyRange(500, False, above=after)):
        found += [agency_view(row) for row in rows]
        after = rows[-1].id
    return found
