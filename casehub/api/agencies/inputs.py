"""GraphQL inputs of the agency mutations."""

from __future__ import annotations

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
