"""Root query fields of deconfliction: `hitNotices`, and `hitCheck` (deprecated)."""

from __future__ import annotations

import strawberry

from casehub.api.context import Info
from casehub.api.deconfliction import checking
from casehub.api.deconfliction.types import HitCheckPayload, HitNotice
from casehub.api.ids import parse_cursor
from casehub.api.relay import After, Before, Connection, First, Last, page
from casehub.services.deconfliction import hits as deconfliction


@strawberry.type(description="Deconfliction reads.")
class DeconflictionQuery:
    @strawberry.field(
        description=(
            "Which other agencies hold each identifier (at most 50 a call; LIAISON_OFFICER or "
            "INVESTIGATOR): agency and case count only, never a case or a value. Each holder "
            "receives a hit notice naming your agency and the identifier kind. Identifiers are "
            "compared in canonical form (phone numbers read in your jurisdiction). Subjects in "
            "RED cases match only where their owner marked them matchable. Limited to "
            "CASEHUB_HIT_CHECK_PER_MINUTE identifiers a minute per agency (RATE_LIMITED, a "
            "top-level error with `retryAfter`); every check is audited."
        ),
        deprecation_reason=(
            "Use Mutation.hitCheck: a check notifies the holders, so it is a change. Removed in "
            "the release after 0.1.0."
        ),
    )
    async def hit_check(self, info: Info, identifiers: checking.Identifiers) -> HitCheckPayload:
        return await checking.hit_check(info, identifiers, raised=checking.QUERY_RAISES)

    @strawberry.field(
        description="Hit notices sent to your agency, newest first (any agency role)."
    )
    async def hit_notices(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[HitNotice]:
        listed = await deconfliction.hit_notices(
            info.context.scope,
            first=first,
            after=parse_cursor(after),
            last=last,
            before=parse_cursor(before, "before"),
        )
        return page(listed, HitNotice.of, deconfliction.count_hit_notices)
