"""GraphQL inputs of the agency mutations."""

from __future__ import annotations

from datetime import datetime

import strawberry

from casehub.api import enums as _registered  # noqa: F401  (registers the GraphQL enums)
from casehub.domain.enums import AgencyKind


@strawberry.input(description="A new agency (HUB_ADMIN only).")
class RegisterAgencyInput:
    code: str = strawberry.field(
        description="Unique code: 2-32 upper-case letters, digits, dashes."
    )
    name: str = strawberry.field(description="Full name (≤ 200).")
    jurisdiction: str = strawberry.field(description="ISO 3166-1 alpha-2 code, or INT.")
    kind: AgencyKind = strawberry.field(description="Kind of body.")
    timezone: str = strawberry.field(
        default="UTC", description="IANA time zone, e.g. Asia/Kuala_Lumpur (default UTC)."
    )


@strawberry.input(description="The public half of a signing key your agency holds.")
class RegisterAgencySigningKeyInput:
    public_key: str = strawberry.field(
        description="The public key as a JWK in JSON text (`casehub agency keygen` prints it): "
        "Ed25519 (OKP) or the hybrid Ed25519 + ML-DSA-65 form of docs/SIGNATURES.md; a private "
        "member is refused."
    )


@strawberry.input(description="Accredit a registered key (HUB_ADMIN).")
class AccreditAgencySigningKeyInput:
    id: strawberry.ID = strawberry.field(description="The key.")
    not_before: datetime | None = strawberry.field(
        default=None, description="Signatures count from (default now; never in the past)."
    )
    not_after: datetime = strawberry.field(
        description="Signatures count until (excluded); at most three years after notBefore."
    )


@strawberry.input(description="Revoke a key: your agency's (AGENCY_ADMIN), or any (HUB_ADMIN).")
class RevokeAgencySigningKeyInput:
    id: strawberry.ID = strawberry.field(description="The key.")
    reason: str = strawberry.field(description="Why (≤ 500), e.g. 'laptop stolen'.")
    revoked_at: datetime | None = strawberry.field(
        default=None,
        description="From when nothing it signs counts (default now; earlier if it was "
        "compromised before it was noticed, never later than now).",
    )
