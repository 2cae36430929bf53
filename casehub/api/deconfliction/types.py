"""GraphQL types of deconfliction: hit-check answers and hit notices."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from casehub.api.agencies.types import Agency, agency_of
from casehub.api.cases.types import Case
from casehub.api.context import Info
from casehub.api.ids import to_global_id
from casehub.api.payloads import payload
from casehub.domain.enums import IdentifierKind
from casehub.services import views


@strawberry.type(description="Another agency holding a checked identifier: who, and how often.")
class AgencyHit:
    case_count: int = strawberry.field(
        description="How many of its cases hold a matchable subject with the identifier."
    )
    _agency_id: strawberry.Private[UUID]

    @strawberry.field(description="The agency to contact (through a cooperation request).")
    async def agency(self, info: Info) -> Agency | None:
        return await agency_of(info, self._agency_id)


@strawberry.type(description="The answer for one checked identifier, in the order given.")
class HitResult:
    kind: IdentifierKind = strawberry.field(description="Kind of the checked identifier.")
    hits: list[AgencyHit] = strawberry.field(
        description=(
            "The other agencies holding it (empty: no hit), at most 25, by id; every holder is "
            "notified. Never a case or a value."
        )
    )

    @classmethod
    def of(cls, view: views.HitResultView) -> HitResult:
        """Render one identifier's answer."""
        return cls(
            kind=view.kind,
            hits=[
                AgencyHit(case_count=hit.case_count, _agency_id=hit.agency_id) for hit in view.hits
            ],
        )


@payload("What `hitCheck` answers.")
class HitCheckPayload:
    results: list[HitResult] | None = strawberry.field(
        description="One answer per identifier, in the order given, unless refused."
    )


@strawberry.type(
    description=(
        "Another agency checked an identifier that subjects in your cases hold: contact it "
        "through a cooperation request. It learned your agency's name and a case count only."
    )
)
class HitNotice:
    id: strawberry.ID = strawberry.field(description="Opaque id of the notice.")
    seq: int = strawberry.field(
        description="Position in the hub's notice feed; pass it as `since` to resume."
    )
    identifier_kind: IdentifierKind = strawberry.field(description="Kind of the identifier.")
    created_at: datetime = strawberry.field(description="When the check was made (UTC).")
    _asking_agency_id: strawberry.Private[UUID]
    _case_ids: strawberry.Private[list[UUID]]

    @strawberry.field(description="The agency that made the check.")
    async def asking_agency(self, info: Info) -> Agency | None:
        return await agency_of(info, self._asking_agency_id)

    @strawberry.field(
        description=(
            "Your cases that hold the identifier: at most 20, by id (an identifier search "
            "finds them all)."
        )
    )
    async def cases(self, info: Info) -> list[Case]:
        found = await info.context.loaders.case.load_many(self._case_ids)
        return [Case.of(view) for view in found if view is not None]

    @classmethod
    def of(cls, view: views.HitNoticeView) -> HitNotice:
        """Render a hit notice."""
        return cls(
            id=strawberry.ID(to_global_id("HitNotice", view.id)),
            seq=view.seq,
            identifier_kind=view.identifier_kind,
            created_at=view.created_at,
            _asking_agency_id=view.asking_agency_id,
            _case_ids=list(view.case_ids),
        )
