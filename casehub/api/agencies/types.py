"""GraphQL types of agencies and of the authenticated principal."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from uuid import UUID

import strawberry

from casehub.api import enums as _registered  # noqa: F401  (registers the GraphQL enums)
from casehub.api.context import Info
from casehub.api.ids import to_global_id
from casehub.api.relay import Node
from casehub.domain.enums import AgencyKind, Role
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.states import KeyState
from casehub.services import views


@strawberry.type(
    description="A registered agency: police, regulator, prosecutor, body or platform."
)
class Agency(Node):
    code: str = strawberry.field(
        description="Short code, e.g. MY-PDRM: unique among its home hub's agencies (a peer's "
        "agency may have the code of one of this hub's)."
    )
    name: str = strawberry.field(description="Full name.")
    jurisdiction: str = strawberry.field(
        description="ISO 3166-1 alpha-2 country code, or INT for international organisations."
    )
    kind: AgencyKind = strawberry.field(description="What kind of body it is.")
    timezone: str = strawberry.field(
        description="IANA time zone; day deadlines of requests to it run on its local calendar."
    )
    delisted: bool = strawberry.field(
        description="True when its home hub's directory no longer lists it (the agency is kept: "
        "requests may refer to it); always false for this hub's own agencies."
    )

    @strawberry.field(
        description="The peer hub whose signed directory lists this agency; null for this "
        "hub's own agencies. A peer's agency is reached through federation: it has no "
        "principals here and cannot yet be sent requests or shares (REMOTE_AGENCY)."
    )
    async def home_hub(self, info: Info) -> PeerHub | None:
        if self._home_hub_id is None:
            return None
        view = await info.context.loaders.peer_hub.load(self._home_hub_id)
        return None if view is None else PeerHub(hub_id=str(view.hub_id), name=view.name)

    @strawberry.field(
        description="The agency's signing keys, oldest first, revoked ones too: public, so "
        "that anyone can check a signature the agency made."
    )
    async def signing_keys(self, info: Info) -> list[AgencySigningKey]:
        views_ = await info.context.loaders.signing_keys.load(self._agency_id)
        return [AgencySigningKey.of(view) for view in views_]

    _agency_id: strawberry.Private[UUID]
    _home_hub_id: strawberry.Private[UUID | None]

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
            delisted=view.delisted,
            _agency_id=view.id,
            _home_hub_id=view.home_hub_id,
        )


@strawberry.type(
    description="A peer hub (another jurisdiction's or platform's casehub) that this hub "
    "federates with, as its agencies name it."
)
class PeerHub:
    hub_id: str = strawberry.field(description="The hub's id (a UUID), as its identity states.")
    name: str = strawberry.field(description="The hub's name, as its operator chose it (e.g. FR).")


@strawberry.type(description="The hub's accreditation of an agency key, as it signed it.")
class KeyAccreditation:
    statement: str = strawberry.field(
        description="The accreditation statement, RFC 8785 canonical JSON (docs/SIGNATURES.md)."
    )
    signature: str = strawberry.field(
        description="The hub's signature over the statement's bytes (Ed25519 and ML-DSA-65)."
    )
    hub_key: str = strawberry.field(
        description="Thumbprint of the hub key that signed: this hub's "
        "(/.well-known/casehub-accreditation.json) for its own agencies, the agency's home "
        "hub's for a peer's agency."
    )
    not_before: datetime = strawberry.field(description="Signatures count from (UTC).")
    not_after: datetime = strawberry.field(description="Signatures count until, excluded (UTC).")
    accredited_at: datetime = strawberry.field(
        description="When the agency's home hub accredited it (UTC)."
    )


@strawberry.type(description="The revocation of an agency key, as the hub signed it.")
class KeyRevocation:
    statement: str = strawberry.field(description="The revocation statement, canonical JSON.")
    signature: str = strawberry.field(description="The hub's signature over the statement.")
    revoked_at: datetime = strawberry.field(
        description="No signature made from this moment on counts (UTC)."
    )
    reason: str = strawberry.field(description="Why it was revoked.")


@strawberry.type(
    description="The public half of a key an agency holds, to sign the steps of cooperation "
    "requests; the private half never reaches the hub."
)
class AgencySigningKey(Node):
    algorithm: SigningAlgorithm = strawberry.field(description="How the key signs.")
    thumbprint: str = strawberry.field(
        description="The key's RFC 7638 thumbprint (docs/SIGNATURES.md for hybrid keys): "
        "what statements name it by."
    )
    public_key: str = strawberry.field(description="The public key as a JWK (JSON text).")
    state: KeyState = strawberry.field(description="Where the key is in its life, now.")
    registered_at: datetime = strawberry.field(
        description="When registered at the agency's home hub (UTC; for a peer's agency, as "
        "that hub said)."
    )
    accreditation: KeyAccreditation | None = strawberry.field(
        description="The hub's accreditation, once made."
    )
    revocation: KeyRevocation | None = strawberry.field(description="The revocation, if any.")
    _agency_id: strawberry.Private[UUID]

    @strawberry.field(description="The agency that holds the key.")
    async def agency(self, info: Info) -> Agency | None:
        return await agency_of(info, self._agency_id)

    @classmethod
    def of(cls, view: views.SigningKeyView) -> AgencySigningKey:
        """Render a signing key view."""
        given, revoked = view.accreditation, view.revocation
        return cls(
            id=strawberry.ID(to_global_id("AgencySigningKey", view.id)),
            algorithm=view.algorithm,
            thumbprint=view.thumbprint,
            public_key=view.public_jwk,
            state=view.state,
            registered_at=view.registered_at,
            accreditation=None if given is None else KeyAccreditation(**asdict(given)),
            revocation=None if revoked is None else KeyRevocation(**asdict(revoked)),
            _agency_id=view.agency_id,
        )


async def agency_of(info: Info, agency_id: UUID) -> Agency | None:
    """The agency with this id, through the request's loader."""
    view = await info.context.loaders.agency.load(agency_id)
    return None if view is None else Agency.of(view)


@strawberry.type(description="The authenticated principal.")
class Viewer:
    name: str = strawberry.field(description="Name of the principal (person or tool).")
    principal_id: str = strawberry.field(
        description="The principal's id (a UUID): the `principal` of the statements it signs."
    )
    roles: list[Role] = strawberry.field(description="Roles granted by the token.")
    _agency_id: strawberry.Private[UUID]

    @strawberry.field(description="The agency the principal acts for.")
    async def agency(self, info: Info) -> Agency | None:
        return await agency_of(info, self._agency_id)
