"""Mutations on agencies: each decodes its input and calls one service."""

from __future__ import annotations

from typing import Annotated

import strawberry

from casehub.api.agencies.inputs import RegisterAgencyInput
from casehub.api.agencies.types import Agency
from casehub.api.context import Info
from casehub.api.payloads import INPUT, payload, respond
from casehub.services.agencies import agencies


@payload("Result of registerAgency.")
class RegisterAgencyPayload:
    agency: Agency | None = strawberry.field(description="The new agency, unless refused.")


@strawberry.type(description="Changes to agencies.")
class AgencyMutation:
    @strawberry.mutation(description="Register an agency on the hub (HUB_ADMIN).")
    async def register_agency(
        self, info: Info, input: Annotated[RegisterAgencyInput, INPUT]
    ) -> RegisterAgencyPayload:
        scope = info.context.scope
        return await respond(
            RegisterAgencyPayload,
            lambda: agencies.register_agency(
                scope,
                code=input.code,
                name=input.name,
                jurisdiction=input.jurisdiction,
                kind=input.kind,
                timezone=input.timezone,
            ),
            Agency.of,
        )
