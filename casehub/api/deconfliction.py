"""Deconfliction fields: `hitCheck`, `hitNotices` (query, subscription), `setSubjectMatchable`."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from casehub.api import feeds
from casehub.api.context import Info
from casehub.api.deconfliction_types import (
    HitCheckPayload,
    HitNotice,
    HitNoticeConnection,
    HitNoticeEdge,
    HitResult,
)
from casehub.api.errors import UserError, attempt
from casehub.api.ids import parse_cursor, parse_id_of, to_cursor
from casehub.api.inputs import IdentifierInput, SetSubjectMatchableInput
from casehub.api.loaders import Loaders
from casehub.api.types import PageInfo, Subject
from casehub.services import deconfliction, subjects
from casehub.services.runtime import Principal, Runtime, Scope
from casehub.services.views import HitNoticeView


@strawberry.type(description="Result of setSubjectMatchable.")
class SetSubjectMatchablePayload:
    subject: Subject | None = strawberry.field(description="The subject, unless refused.")
    errors: list[UserError] = strawberry.field(description="Why it was refused, if it was.")


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
        )
    )
    async def hit_check(self, info: Info, identifiers: list[IdentifierInput]) -> HitCheckPayload:
        found, errors = await attempt(
            lambda: deconfliction.hit_check(
                info.context.scope, identifiers=[item.to_domain() for item in identifiers]
            )
        )
        results = None if found is None else [HitResult.of(view) for view in found]
        return HitCheckPayload(results=results, errors=errors)

    @strawberry.field(
        description="Hit notices sent to your agency, newest first (any agency role)."
    )
    async def hit_notices(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> HitNoticeConnection:
        items, more = await deconfliction.hit_notices(
            info.context.scope, first=first, after=parse_cursor(after)
        )
        edges = [
            HitNoticeEdge(cursor=to_cursor(item.id), node=HitNotice.of(item)) for item in items
        ]
        return HitNoticeConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
        )


@strawberry.type(description="Deconfliction changes.")
class DeconflictionMutation:
    @strawberry.mutation(
        description=(
            "Whether a subject of your agency answers other agencies' hit checks (INVESTIGATOR "
            "of the owner): opt a subject of a RED case in, or any subject out."
        )
    )
    async def set_subject_matchable(
        self, info: Info, input: SetSubjectMatchableInput
    ) -> SetSubjectMatchablePayload:
        view, errors = await attempt(
            lambda: subjects.mark_subject(
                info.context.scope,
                subject_id=parse_id_of("Subject", input.subject_id, ["subjectId"]),
                matchable=input.matchable,
            )
        )
        return SetSubjectMatchablePayload(
            subject=None if view is None else Subject.of(view), errors=errors
        )


@strawberry.type(description="Live deconfliction feeds.")
class DeconflictionSubscription:
    @strawberry.subscription(
        description=(
            "Hit notices sent to your agency as they are committed, oldest first (any agency "
            "role). To resume, pass the last `seq` you received as `since`."
        )
    )
    async def hit_notices(
        self,
        info: Info,
        since: Annotated[
            int | None,
            strawberry.argument(
                description="Deliver the notices after this `seq` first; null: only new ones."
            ),
        ] = None,
    ) -> AsyncGenerator[HitNotice, None]:
        async def preload(loaders: Loaders, notices: list[HitNoticeView]) -> object:
            await loaders.agency.load_many([item.asking_agency_id for item in notices])
            return await loaders.case.load_many([c for item in notices for c in item.case_ids])

        def follow(
            runtime: Runtime, principal: Principal
        ) -> AsyncGenerator[tuple[Scope, list[HitNoticeView]], None]:
            return deconfliction.follow_notices(runtime, principal, since=since)

        async for notice in feeds.deliver(info, follow, preload, HitNotice.of):
            yield notice
