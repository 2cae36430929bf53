"""Root query fields: each decodes its arguments and calls one service."""

from __future__ import annotations

from typing import Any

import strawberry

from casehub.api.context import Info
from casehub.api.ids import parse_cursor, parse_global_id, to_cursor
from casehub.api.inputs import CaseFilter
from casehub.api.request_types import CooperationRequest
from casehub.api.types import (
    Agency,
    AgencyConnection,
    AgencyEdge,
    Case,
    CaseEdge,
    CaseShare,
    CustodyEvent,
    Evidence,
    Identifier,
    Node,
    PageInfo,
    Subject,
    Viewer,
)
from casehub.domain.errors import ValidationFailed
from casehub.services import agencies, cases, lookup

MAX_NODES = 100

_RENDER: dict[str, Any] = {
    "Agency": Agency.of,
    "Case": Case.of,
    "Subject": Subject.of,
    "Identifier": Identifier.of,
    "Evidence": Evidence.of,
    "CustodyEvent": CustodyEvent.of,
    "CaseShare": CaseShare.of,
    "CooperationRequest": CooperationRequest.of,
}


@strawberry.type(description="A page of cases, newest first.")
class CaseConnection:
    edges: list[CaseEdge] = strawberry.field(description="The cases of this page.")
    page_info: PageInfo = strawberry.field(description="Where the page ends.")
    _filter: strawberry.Private[cases.CaseFilter]

    @strawberry.field(description="How many cases match the filter in all (one COUNT query).")
    async def total_count(self, info: Info) -> int:
        return await cases.count_cases(info.context.scope, case_filter=self._filter)


async def _nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    wanted = [parse_global_id(value) for value in ids]
    found = await lookup.objects_by_ids(info.context.scope, wanted)
    return [
        None if view is None else _RENDER[type_name](view)
        for (type_name, _id), view in zip(wanted, found, strict=True)
    ]


@strawberry.type(description="Reads.")
class Query:
    @strawberry.field(description="The authenticated principal and its agency.")
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.scope.caller()
        return Viewer(
            name=principal.name,
            roles=sorted(principal.roles, key=lambda role: role.value),
            _agency_id=principal.agency_id,
        )

    @strawberry.field(
        description="Any object by global id; null if it does not exist for you. FORBIDDEN when "
        "your roles read no object of its type (HUB_ADMIN alone reads agencies only)."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return (await _nodes(info, [id]))[0]

    @strawberry.field(
        description="Objects by global ids (≤ 100), in order; null where not visible. "
        "FORBIDDEN when your roles read no object of one of their types."
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise ValidationFailed(f"At most {MAX_NODES} ids.", ["ids"])
        return await _nodes(info, ids)

    @strawberry.field(description="The directory of agencies, ordered by id.")
    async def agencies(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> AgencyConnection:
        items, more = await agencies.list_agencies(
            info.context.scope, first=first, after=parse_cursor(after)
        )
        edges = [AgencyEdge(cursor=to_cursor(item.id), node=Agency.of(item)) for item in items]
        return AgencyConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(
        description="Cases your agency owns or holds an active share of, newest first (any "
        "agency role; FORBIDDEN to HUB_ADMIN alone)."
    )
    async def cases(
        self,
        info: Info,
        filter: CaseFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> CaseConnection:
        given = filter or CaseFilter()
        case_filter = cases.CaseFilter(
            status=given.status,
            category=given.category,
            tlp=given.tlp,
            owned=given.owned,
            identifier=given.identifier.to_domain() if given.identifier else None,
        )
        page = await cases.list_cases(
            info.context.scope, case_filter=case_filter, first=first, after=parse_cursor(after)
        )
        edges = [CaseEdge(cursor=to_cursor(item.id), node=Case.of(item)) for item in page.items]
        return CaseConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None
            ),
            _filter=page.case_filter,
        )
