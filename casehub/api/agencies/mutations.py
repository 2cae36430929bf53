"""Mutations on agencies: each decodes its input and calls one service."""

from __future__ import annotations

from typing import Annotated

import strawberry

from casehub.api.agencies.inputs import (
    AccreditAgencySigningKeyInput,
    RegisterAgencyInput,
    RegisterAgencySigningKeyInput,
    RevokeAgencySigningKeyInput,
)
from casehub.api.agencies.types import Agency, AgencySigningKey
from casehub.api.context import Info
from casehub.api.ids import parse_id_of
from casehub.api.payloads import INPUT, payload, respond
from casehub.services.agencies import agencies, signing_keys


@payload("Result of registerAgency.")
class RegisterAgencyPayload:
    agency: Agency | None = strawberry.field(description="The new agency, unless refused.")


@payload("Result of a signing-key mutation.")
class AgencySigningKeyPayload:
    key: AgencySigningKey | None = strawberry.field(description="The key, unless refused.")


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

    @strawberry.mutation(
        description="Register the public half of a key your agency holds (AGENCY_ADMIN); it "
        "signs nothing that counts until the hub accredits it."
    )
    async def register_agency_signing_key(
        self, info: Info, input: Annotated[RegisterAgencySigningKeyInput, INPUT]
    ) -> AgencySigningKeyPayload:
        scope = info.context.scope
        return await respond(
            AgencySigningKeyPayload,
            lambda: signing_keys.register_signing_key(scope, public_key=input.public_key),
            AgencySigningKey.of,
        )

    @strawberry.mutation(
        description="Accredit an agency's key for a period (HUB_ADMIN): the hub signs a "
        "statement naming the agency, its jurisdiction and kind, and the key."
    )
    async def accredit_agency_signing_key(
        self, info: Info, input: Annotated[AccreditAgencySigningKeyInput, INPUT]
    ) -> AgencySigningKeyPayload:
        scope = info.context.scope
        return await respond(
            AgencySigningKeyPayload,
            lambda: signing_keys.accredit_signing_key(
                scope,
                key_id=parse_id_of("AgencySigningKey", input.id, ["id"]),
                not_before=input.not_before,
                not_after=input.not_after,
            ),
            AgencySigningKey.of,
        )

    @strawberry.mutation(
        description="Revoke a key (its agency's AGENCY_ADMIN, or HUB_ADMIN): nothing signed "
        "from revokedAt on counts; earlier signatures still verify."
    )
    async def revoke_agency_signing_key(
        self, info: Info, input: Annotated[RevokeAgencySigningKeyInput, INPUT]
    ) -> AgencySigningKeyPayload:
        scope = info.context.scope
        return await respond(
            AgencySigningKeyPayload,
            lambda: signing_keys.revoke_signing_key(
                scope,
                key_id=parse_id_of("AgencySigningKey", input.id, ["id"]),
                reason=input.reason,
                revoked_at=input.revoked_at,
            ),
            AgencySigningKey.of,
        )
