"""Root fields on cooperation requests: each decodes its arguments and calls one service."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import strawberry

from casehub.api.context import Info
from casehub.api.ids import parse_cursor
from casehub.api.relay import After, Before, Connection, First, Last, page
from casehub.api.requests.inputs import CooperationRequestFilter
from casehub.api.requests.types import CooperationRequest
from casehub.services.requests import reads as request_reads


@strawberry.type(description="Reads of cooperation requests.")
class RequestQuery:
    @strawberry.field(
        description="Requests your agency sent or received (drafts only to their author), "
        "newest first; any agency role, FORBIDDEN to HUB_ADMIN alone."
    )
    async def cooperation_requests(
        self,
        info: Info,
        filter: Annotated[
            CooperationRequestFilter | None,
            strawberry.argument(description="Narrows the list; all when null."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[CooperationRequest]:
        given = filter or CooperationRequestFilter()
        request_filter = request_reads.RequestFilter(
            direction=given.direction.value if given.direction else None,
            statuses=tuple(given.status or ()),
            overdue=bool(given.overdue),
        )
        listed = await request_reads.list_requests(
            info.context.scope,
            request_filter=request_filter,
            first=first,
            after=parse_cursor(after),
            last=last,
            before=parse_cursor(before, "before"),
        )
        count = partial(request_reads.count_requests, request_filter=request_filter)
        return page(listed, CooperationRequest.of, count)
