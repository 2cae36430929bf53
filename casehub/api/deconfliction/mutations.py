"""Mutations of deconfliction: `hitCheck`, `setSubjectMatchable`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from casehub.api.cases.inputs import SetSubjectMatchableInput
from casehub.api.cases.types import Subject
from casehub.api.context import Info
from casehub.api.deconfliction import checking
from casehub.api.deconfliction.types import HitCheckPayload
from casehub.api.ids import renamed_id
from casehub.api.payloads import INPUT, payload, respond
from casehub.services.cases import subjects


@payload("Result of setSubjectMatchable.")
class SetSubjectMatchablePayload:
    subject: Subject | None = strawberry.field(description="The subject, unless refused.")


@strawberry.type(description="Deconfliction changes.")
class DeconflictionMutation:
    @strawberry.mutation(
        description=(
            "Which other agencies hold each identifier (at most 50 a call; LIAISON_OFFICER or "
            "INVESTIGATOR): agency and case count only, never a case or a value. Each holder "
            "receives a hit notice naming your agency and the identifier kind, so every call "
            "is a new check: send it again only to check again. Identifiers are compared in "
            "canonical form (phone numbers read in your jurisdiction). Subjects in RED cases "
            "match only where their owner marked them matchable. Limited to "
            "CASEHUB_HIT_CHECK_PER_MINUTE identifiers a minute per agency (RATE_LIMITED in "
            "`errors`, with `retryAfter`); every check is audited."
        )
    )
    async def hit_check(self, info: Info, identifiers: checking.Identifiers) -> HitCheckPayload:
        return await checking.hit_check(info, identifiers)

    @strawberry.mutation(
        description=(
            "Whether a subject of your agency answers other agencies' hit checks (INVESTIGATOR "
            "of the owner): opt a subject of a RED case in, or any subject out."
        )
    )
    async def set_subject_matchable(
        self, info: Info, input: Annotated[SetSubjectMatchableInput, INPUT]
    ) -> SetSubjectMatchablePayload:
        return await respond(
            SetSubjectMatchablePayload,
            lambda: subjects.mark_subject(
                info.context.scope,
                subject_id=renamed_id("Subject", input.id, input.subject_id, "subjectId"),
                matchable=input.matchable,
            ),
            Subject.of,
        )
