"""The one resolver of `hitCheck`: the mutation, and the query it replaces (deprecated)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from casehub.api.cases.inputs import IdentifierInput
from casehub.api.context import Info
from casehub.api.deconfliction.types import HitCheckPayload, HitResult
from casehub.api.payloads import respond
from casehub.domain.errors import DomainError, RateLimited
from casehub.services.deconfliction import hits as deconfliction

# The argument of both fields.
Identifiers = Annotated[
    list[IdentifierInput],
    strawberry.argument(
        description="The identifiers to check (at most 50), each answered in `results` in order."
    ),
]

# Until it is removed, the query answers its rate limit as it always did: a top-level error.
QUERY_RAISES: tuple[type[DomainError], ...] = (RateLimited,)


async def hit_check(
    info: Info, identifiers: list[IdentifierInput], *, raised: tuple[type[DomainError], ...] = ()
) -> HitCheckPayload:
    """Check the identifiers; every refusal but the `raised` kinds is a payload error."""
    return await respond(
        HitCheckPayload,
        lambda: deconfliction.hit_check(
            info.context.scope, identifiers=[item.to_domain() for item in identifiers]
        ),
        lambda found: [HitResult.of(view) for view in found],
        raised=raised,
    )
