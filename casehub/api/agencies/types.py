"""GraphQL types of agencies and of the authenticated principal."""

from __future__ import annotations

from uuid import UUID

import strawberry

from casehub.api import enums as _registered  # noqa: F401  (registers the GraphQL enums)
from casehub.api.context import Info
from casehub.api.ids import to_global_id
from casehub.api.relay import Node
from casehub.domain.enums import AgencyKind, Role
from casehub.services import views


@strawberry.type(
    description="A registered agency: police, regulator, prosecutor, body or platform."
)
class Agency(Node):
    code: str = strawberry.field(description="Unique short code, e.g. MY-PDRM.")
    name: str = strawberry.field(description="Full name.")
    jurisdiction: str = strawberry.field(
        description="ISO 3166-1 alpha-2 country code, or INT for international organisations."
    )
    kind: AgencyKind = strawberry.field(description="What kind of body it is.")
    timezone: str = strawberry.field(
        description="IANA time zone; day deadlines of requests to it run on its local calendar."
    )

    @classmethod
    def of(cls, view: views.AgencyView) -> Agency:
        """Render an agency view."""
        return cls(
            id=strawberry.ID(to_global_id("Agency", view.id)),
            code=view.code,
            name=view.name,
            jurisdiction=view.jurisdiction,
            kind=view.kind,
            timezone=view.timezone,
        )


async def agency_of(info: Info, agency_id: UUID) -> Agency | None:
    """The agency with this id, through the request's loader."""
    view = await info.context.loaders.agency.load(agency_id)
    return None if view is None else Agency.of(view)


@strawberry.type(description="The authenticated principal.")
class Viewer:
    name: str = strawberry.field(description="Name of the principal (person or tool).")
    roles: list[Role] = strawberry.field(description="Roles granted by the token.")
    _agency_id: strawberry.Private[UUID]

    @strawberry.field(description="The agency the principal acts for.")
    async def agency(self, info: Info) -> Agency | None:
        return await agency_of(info, self._agency_id)
