"""Root fields on agencies and the authenticated principal."""

from __future__ import annotations

import strawberry

from casehub.api.agencies.types import Agency, AgencyConnection, AgencyEdge, Viewer
from casehub.api.context import Info
from casehub.api.ids import parse_cursor, to_cursor
from casehub.api.relay import PageInfo
from casehub.services.agencies import agencies


@strawberry.type(description="Reads of agencies.")
class AgencyQuery:
    @strawberry.field(description="The authenticated principal and its agency.")
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.scope.caller()
        return Viewer(
            name=principal.name,
            roles=sorted(principal.roles, key=lambda role: role.value),
            _agency_id=principal.agency_id,
        )

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
