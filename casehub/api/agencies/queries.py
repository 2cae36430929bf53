"""Root fields on agencies and the authenticated principal."""

from __future__ import annotations

import strawberry

from casehub.api.agencies.types import Agency, Viewer
from casehub.api.context import Info
from casehub.api.ids import parse_cursor
from casehub.api.relay import After, Before, Connection, First, Last, page
from casehub.services.agencies import agencies


@strawberry.type(description="Reads of agencies.")
class AgencyQuery:
    @strawberry.field(description="The authenticated principal and its agency.")
    def viewer(self, info: Info) -> Viewer:
        principal = agencies.viewer(info.context.scope)
        return Viewer(
            name=principal.name,
            principal_id=str(principal.id),
            roles=sorted(principal.roles, key=lambda role: role.value),
            _agency_id=principal.agency_id,
        )

    @strawberry.field(description="The directory of agencies, ordered by id.")
    async def agencies(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Agency]:
        listed = await agencies.list_agencies(
            info.context.scope,
            first=first,
            after=parse_cursor(after),
            last=last,
            before=parse_cursor(before, "before"),
        )
        return page(listed, Agency.of, agencies.count_agencies)
