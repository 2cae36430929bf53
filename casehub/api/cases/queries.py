"""Root query fields: each decodes its arguments and calls one service."""

from __future__ import annotations

import strawberry

from casehub.api.cases.inputs import CaseFilter
from casehub.api.cases.types import Case, CaseEdge
from casehub.api.context import Info
from casehub.api.ids import parse_cursor, to_cursor
from casehub.api.relay import PageInfo
from casehub.services.cases import cases


@strawberry.type(description="A page of cases, newest first.")
class CaseConnection:
    edges: list[CaseEdge] = strawberry.field(description="The cases of this page.")
    page_info: PageInfo = strawberry.field(description="Where the page ends.")
    _filter: strawberry.Private[cases.CaseFilter]

    @strawberry.field(description="How many cases match the filter in all (one COUNT query).")
    async def total_count(self, info: Info) -> int:
        return await cases.count_cases(info.context.scope, case_filter=self._filter)


@strawberry.type(description="Reads of cases.")
class CaseQuery:
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
