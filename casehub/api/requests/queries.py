"""Root fields on cooperation requests."""

from __future__ import annotations

import strawberry

from casehub.api.context import Info
from casehub.api.ids import parse_cursor, to_cursor
from casehub.api.relay import PageInfo
from casehub.api.requests.inputs import CooperationRequestFilter
from casehub.api.requests.types import CooperationRequest
from casehub.services.requests import reads as request_reads


@strawberry.type(description="A request in a page of requests.")
class CooperationRequestEdge:
    cursor: str = strawberry.field(description="Opaque cursor of this request.")
    node: CooperationRequest = strawberry.field(description="The request.")


@strawberry.type(description="A page of cooperation requests, newest first.")
class CooperationRequestConnection:
    edges: list[CooperationRequestEdge] = strawberry.field(description="This page.")
    page_info: PageInfo = strawberry.field(description="Where the page ends.")
    _filter: strawberry.Private[request_reads.RequestFilter]

    @strawberry.field(description="How many requests match the filter in all.")
    async def total_count(self, info: Info) -> int:
        return await request_reads.count_requests(info.context.scope, request_filter=self._filter)


@strawberry.type(description="Reads of cooperation requests.")
class RequestQuery:
    @strawberry.field(
        description="Requests your agency sent or received (drafts only to their author); "
        "any agency role, FORBIDDEN to HUB_ADMIN alone."
    )
    async def cooperation_requests(
        self,
        info: Info,
        filter: CooperationRequestFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> CooperationRequestConnection:
        given = filter or CooperationRequestFilter()
        request_filter = request_reads.RequestFilter(
            direction=given.direction.value if given.direction else None,
            statuses=tuple(given.status or ()),
            overdue=bool(given.overdue),
        )
        page = await request_reads.list_requests(
            info.context.scope,
            request_filter=request_filter,
            first=first,
            after=parse_cursor(after),
        )
        edges = [
            CooperationRequestEdge(cursor=to_cursor(item.id), node=CooperationRequest.of(item))
            for item in page.items
        ]
        return CooperationRequestConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None
            ),
            _filter=request_filter,
        )
