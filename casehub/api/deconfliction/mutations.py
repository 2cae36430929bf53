"""Mutations of deconfliction: `setSubjectMatchable`."""

from __future__ import annotations

import strawberry

from casehub.api.cases.inputs import SetSubjectMatchableInput
from casehub.api.cases.types import Subject
from casehub.api.context import Info
from casehub.api.ids import parse_id_of
from casehub.api.payloads import payload, respond
from casehub.services.cases import subjects


@payload("Result of setSubjectMatchable.")
class SetSubjectMatchablePayload:
    subject: Subject | None = strawberry.field(description="The subject, unless refused.")


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
        return await respond(
            SetSubjectMatchablePayload,
            lambda: subjects.mark_subject(
                info.context.scope,
                subject_id=parse_id_of("Subject", input.subject_id, ["subjectId"]),
                matchable=input.matchable,
            ),
            Subject.of,
        )
