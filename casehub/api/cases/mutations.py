"""Mutations: decode the input, call one service, wrap the result or the refusal in a payload."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

import strawberry
from starlette.datastructures import UploadFile

from casehub.api.cases.inputs import (
    AddEvidenceInput,
    AddSubjectInput,
    OpenCaseInput,
    RecordCustodyEventInput,
    RevokeShareInput,
    SetLegalHoldInput,
    ShareCaseInput,
    ShredCaseInput,
    UpdateCaseInput,
)
from casehub.api.cases.types import Case, CaseShare, CustodyEvent, Evidence, Subject
from casehub.api.context import Info
from casehub.api.ids import parse_id_of
from casehub.api.payloads import INPUT, payload, respond
from casehub.domain.errors import ValidationFailed
from casehub.services.cases import cases, custody, evidence, sharing, shredding, subjects
from casehub.services.views import EvidenceView


@payload("Result of openCase.")
class OpenCasePayload:
    case: Case | None = strawberry.field(description="The new case, unless refused.")


@payload("Result of updateCase.")
class UpdateCasePayload:
    case: Case | None = strawberry.field(description="The case as changed, unless refused.")


@payload("Result of addSubject.")
class AddSubjectPayload:
    subject: Subject | None = strawberry.field(description="The new subject, unless refused.")


@payload("Result of addEvidence.")
class AddEvidencePayload:
    evidence: Evidence | None = strawberry.field(description="The new item, unless refused.")


@payload("Result of recordCustodyEvent.")
class RecordCustodyEventPayload:
    custody_event: CustodyEvent | None = strawberry.field(description="The new entry.")


@payload("Result of shareCase.")
class ShareCasePayload:
    share: CaseShare | None = strawberry.field(description="The new share, unless refused.")


@payload("Result of revokeShare.")
class RevokeSharePayload:
    share: CaseShare | None = strawberry.field(description="The revoked share, unless refused.")


@payload("Result of shredCase.")
class ShredCasePayload:
    case: Case | None = strawberry.field(description="The shredded case, unless refused.")


@payload("Result of setLegalHold.")
class SetLegalHoldPayload:
    case: Case | None = strawberry.field(description="The case as changed, unless refused.")


async def _content(data: AddEvidenceInput, limit: int) -> bytes | None:
    if data.content_base64 is not None and data.content is not None:
        raise ValidationFailed("Send content either as base64 or as an upload.", ["content"])
    if data.content is not None:
        if not isinstance(data.content, UploadFile):  # a value sent in JSON, not a file part
            raise ValidationFailed(
                "Send content as a file in a multipart upload, or as contentBase64.", ["content"]
            )
        # Read one byte past the limit so oversize uploads are refused without buffering more.
        return await data.content.read(limit + 1)
    if data.content_base64 is None:
        return None
    if len(data.content_base64) > (limit + 2) // 3 * 4 + 4:
        raise ValidationFailed(
            f"Content is larger than the limit of {limit} bytes.", ["contentBase64"]
        )
    try:
        return base64.b64decode(data.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("Not valid base64.", ["contentBase64"]) from None


@strawberry.type(description="Changes to cases.")
class CaseMutation:
    @strawberry.mutation(description="Open a case owned by your agency (INVESTIGATOR).")
    async def open_case(
        self, info: Info, input: Annotated[OpenCaseInput, INPUT]
    ) -> OpenCasePayload:
        scope = info.context.scope
        return await respond(
            OpenCasePayload,
            lambda: cases.open_case(
                scope,
                reference=input.reference,
                title=input.title,
                summary=input.summary,
                category=input.category,
                tlp=input.tlp,
                handling_code=input.handling_code,
            ),
            Case.of,
        )

    @strawberry.mutation(
        description="Change a case your agency owns (INVESTIGATOR), with optimistic concurrency."
    )
    async def update_case(
        self, info: Info, input: Annotated[UpdateCaseInput, INPUT]
    ) -> UpdateCasePayload:
        scope = info.context.scope
        return await respond(
            UpdateCasePayload,
            lambda: cases.update_case(
                scope,
                case_id=parse_id_of("Case", input.id, ["id"]),
                expected_version=input.expected_version,
                title=input.title,
                summary=input.summary,
                category=input.category,
                status=input.status,
                tlp=input.tlp,
                handling_code=input.handling_code,
            ),
            Case.of,
        )

    @strawberry.mutation(description="Add a subject with identifiers to your case (INVESTIGATOR).")
    async def add_subject(
        self, info: Info, input: Annotated[AddSubjectInput, INPUT]
    ) -> AddSubjectPayload:
        scope = info.context.scope
        return await respond(
            AddSubjectPayload,
            lambda: subjects.add_subject(
                scope,
                case_id=parse_id_of("Case", input.case_id, ["caseId"]),
                kind=input.kind,
                display_name=input.display_name,
                identifiers=[item.to_domain() for item in input.identifiers],
                matchable=input.matchable,
            ),
            Subject.of,
        )

    @strawberry.mutation(description="Add an evidence item to your case (INVESTIGATOR).")
    async def add_evidence(
        self, info: Info, input: Annotated[AddEvidenceInput, INPUT]
    ) -> AddEvidencePayload:
        scope = info.context.scope
        limit = scope.runtime.settings.max_evidence_bytes

        async def work() -> EvidenceView:
            case_id = parse_id_of("Case", input.case_id, ["caseId"])
            return await evidence.add_evidence(
                scope,
                case_id=case_id,
                kind=input.kind,
                title=input.title,
                description=input.description,
                content=await _content(input, limit),
                sha256=input.sha256,
                size_bytes=input.size_bytes,
                media_type=input.media_type,
                collected_at=input.collected_at,
                source_reliability=input.source_reliability,
                information_accuracy=input.information_accuracy,
                handling_code=input.handling_code,
                content_field="content" if input.content is not None else "contentBase64",
            )

        return await respond(AddEvidencePayload, work, Evidence.of)

    @strawberry.mutation(
        description="Append to an evidence item's chain of custody (INVESTIGATOR; owner or FULL)."
    )
    async def record_custody_event(
        self, info: Info, input: Annotated[RecordCustodyEventInput, INPUT]
    ) -> RecordCustodyEventPayload:
        scope = info.context.scope
        return await respond(
            RecordCustodyEventPayload,
            lambda: custody.record_custody_event(
                scope,
                evidence_id=parse_id_of("Evidence", input.evidence_id, ["evidenceId"]),
                action=input.action,
                occurred_at=input.occurred_at,
                note=input.note,
            ),
            CustodyEvent.of,
        )

    @strawberry.mutation(
        description=(
            "Share your case with another agency (AGENCY_ADMIN). A new share replaces that "
            "agency's active one; TLP rules may refuse it with CLASSIFICATION_FORBIDS_SHARING."
        )
    )
    async def share_case(
        self, info: Info, input: Annotated[ShareCaseInput, INPUT]
    ) -> ShareCasePayload:
        scope = info.context.scope
        return await respond(
            ShareCasePayload,
            lambda: sharing.share_case(
                scope,
                case_id=parse_id_of("Case", input.case_id, ["caseId"]),
                agency_id=parse_id_of("Agency", input.agency_id, ["agencyId"]),
                share_scope=input.scope,
                expires_at=input.expires_at,
            ),
            CaseShare.of,
        )

    @strawberry.mutation(description="Revoke a share of your case now (AGENCY_ADMIN).")
    async def revoke_share(
        self, info: Info, input: Annotated[RevokeShareInput, INPUT]
    ) -> RevokeSharePayload:
        scope = info.context.scope
        return await respond(
            RevokeSharePayload,
            lambda: sharing.revoke_share(
                scope, share_id=parse_id_of("CaseShare", input.share_id, ["shareId"])
            ),
            CaseShare.of,
        )

    @strawberry.mutation(
        description=(
            "Crypto-shred your case (AGENCY_ADMIN): destroy every agency's wrap of its data key "
            "and revoke its shares. Its clear fields remain with shreddedAt; its encrypted fields "
            "can never be decrypted again. Refused with LEGAL_HOLD while a hold is in force, and "
            "with VALIDATION once shredded. Linked cooperation requests keep their own keys."
        )
    )
    async def shred_case(
        self, info: Info, input: Annotated[ShredCaseInput, INPUT]
    ) -> ShredCasePayload:
        scope = info.context.scope
        return await respond(
            ShredCasePayload,
            lambda: shredding.shred_case(scope, case_id=parse_id_of("Case", input.id, ["id"])),
            Case.of,
        )

    @strawberry.mutation(
        description=(
            "Place or release a legal hold on your case (AGENCY_ADMIN); "
            "while held, shredCase is refused."
        )
    )
    async def set_legal_hold(
        self, info: Info, input: Annotated[SetLegalHoldInput, INPUT]
    ) -> SetLegalHoldPayload:
        scope = info.context.scope
        return await respond(
            SetLegalHoldPayload,
            lambda: shredding.set_legal_hold(
                scope,
                case_id=parse_id_of("Case", input.id, ["id"]),
                hold=input.hold,
                reason=input.reason,
            ),
            Case.of,
        )
