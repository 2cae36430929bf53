"""Root query fields: each decodes its arguments and calls one service."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import strawberry

from casehub.api.cases.inputs import CaseFilter
from casehub.api.cases.types import Case
from casehub.api.context import Info
from casehub.api.ids import parse_cursor
from casehub.api.relay import After, Before, Connection, First, Last, page
from casehub.services.cases import cases


@strawberry.type(description="Reads of cases.")
class CaseQuery:
    @strawberry.field(
        description="Cases your agency owns or holds an active share of, newest first (any "
        "agency role; FORBIDDEN to HUB_ADMIN alone)."
    )
    async def cases(
        self,
        info: Info,
        filter: Annotated[
            CaseFilter | None, strawberry.argument(description="Narrows the list; all when null.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Case]:
        given = filter or CaseFilter()
        case_filter = cases.CaseFilter(
            status=given.status,
            category=given.category,
            tlp=given.tlp,
            owned=given.owned,
            identifier=given.identifier.to_domain() if given.identifier else None,
        )
        listed = await cases.list_cases(
            info.context.scope,
            case_filter=case_filter,
            first=first,
            after=parse_cursor(after),
            last=last,
            before=parse_cursor(before, "before"),
        )
        count = partial(cases.count_cases, case_filter=listed.case_filter)
        return page(listed, Case.of, count)
