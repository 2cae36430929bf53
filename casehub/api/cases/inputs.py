"""GraphQL input types of the mutations and filters."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.file_uploads import Upload

# Importing the enums registers the domain's as GraphQL enums too.
from casehub.api.enums import REMOVED_IN
from casehub.domain import identifiers
from casehub.domain.enums import (
    CaseCategory,
    CaseStatus,
    CustodyAction,
    EvidenceKind,
    HandlingCode,
    IdentifierKind,
    ShareScope,
    SourceReliability,
    SubjectKind,
    Tlp,
)


@strawberry.input(description="Fields of a new case.")
class OpenCaseInput:
    reference: str = strawberry.field(description="Your agency's own case number (unique in it).")
    title: str = strawberry.field(description="Operational name, stored in clear (≤ 200).")
    summary: str = strawberry.field(description="Summary, encrypted at rest (≤ 20,000).")
    category: CaseCategory = strawberry.field(description="Crime area.")
    tlp: Tlp = strawberry.field(default=Tlp.AMBER, description="TLP 2.0 marking (default AMBER).")
    handling_code: HandlingCode = strawberry.field(
        default=HandlingCode.H0, description="Use conditions (default H0)."
    )


@strawberry.input(description="Changes to a case; omitted fields stay as they are.")
class UpdateCaseInput:
    id: strawberry.ID = strawberry.field(description="The case.")
    expected_version: int = strawberry.field(
        description="The version you read; a stale one is refused with CONFLICT."
    )
    title: str | None = strawberry.field(default=None, description="New title.")
    summary: str | None = strawberry.field(default=None, description="New summary.")
    category: CaseCategory | None = strawberry.field(default=None, description="New category.")
    status: CaseStatus | None = strawberry.field(default=None, description="New status.")
    tlp: Tlp | None = strawberry.field(default=None, description="New marking.")
    handling_code: HandlingCode | None = strawberry.field(default=None, description="New code.")


@strawberry.input(description="An identifier to attach to a subject.")
class IdentifierInput:
    kind: IdentifierKind = strawberry.field(description="Kind of identifier.")
    value: str = strawberry.field(description="The value, encrypted at rest (≤ 1,000).")
    platform: str | None = strawberry.field(
        default=None, description="Platform of a MESSENGER_HANDLE (required for it), e.g. telegram."
    )
    chain: str | None = strawberry.field(
        default=None, description="Chain of a CRYPTO_WALLET (required for it), e.g. tron."
    )

    def to_domain(self) -> identifiers.IdentifierInput:
        """The identifier as the services take it."""
        return identifiers.IdentifierInput(
            kind=self.kind, value=self.value, platform=self.platform, chain=self.chain
        )


@strawberry.input(description="A new subject of a case.")
class AddSubjectInput:
    case_id: strawberry.ID = strawberry.field(description="The case.")
    kind: SubjectKind = strawberry.field(description="What the subject is.")
    display_name: str = strawberry.field(description="Name as known, encrypted (≤ 500).")
    identifiers: list[IdentifierInput] = strawberry.field(
        default_factory=list, description="Its identifiers (≤ 50)."
    )
    matchable: bool | None = strawberry.field(
        default=None,
        description=(
            "Whether other agencies' hitCheck may find this subject: true or false; null "
            "(default) follows the case's TLP: every subject is matchable except in RED cases."
        ),
    )


@strawberry.input(description="Whether a subject answers other agencies' hit checks.")
class SetSubjectMatchableInput:
    id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The subject, of your agency (required: this or the deprecated `subjectId`).",
    )
    subject_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The subject (of your agency).",
        deprecation_reason=f"Use `id` (an input names the object it changes `id`); removed in "
        f"{REMOVED_IN}.",
    )
    matchable: bool | None = strawberry.field(
        description="true, false, or null to follow the case's TLP (RED: not matchable)."
    )


@strawberry.input(
    description=(
        "A new evidence item. Send content as `contentBase64` in JSON or as `content` in a "
        "multipart upload, or for items kept elsewhere (and HASH_ONLY) only `sha256`."
    )
)
class AddEvidenceInput:
    case_id: strawberry.ID = strawberry.field(description="The case.")
    kind: EvidenceKind = strawberry.field(description="Form of the item.")
    title: str = strawberry.field(description="Short clear-text title (≤ 200).")
    description: str | None = strawberry.field(default=None, description="Encrypted description.")
    content_base64: str | None = strawberry.field(
        default=None, description="Content, base64-encoded; encrypted at rest."
    )
    content: Upload | None = strawberry.field(
        default=None,
        description=(
            "Content as a file in a multipart upload, which needs the header "
            "`Apollo-Require-Preflight: true`; encrypted at rest."
        ),
    )
    sha256: str | None = strawberry.field(
        default=None,
        description="SHA-256 (hex). Required without content; checked against content if sent.",
    )
    size_bytes: int | None = strawberry.field(
        default=None, description="Size of an item kept elsewhere; checked against content if sent."
    )
    media_type: str | None = strawberry.field(default=None, description="Media type.")
    collected_at: datetime | None = strawberry.field(default=None, description="When collected.")
    source_reliability: SourceReliability | None = strawberry.field(
        default=None, description="Source grading."
    )
    information_accuracy: int | None = strawberry.field(
        default=None, description="Information grading, 1 to 4."
    )
    handling_code: HandlingCode = strawberry.field(
        default=HandlingCode.H0, description="Use conditions (default H0)."
    )


@strawberry.input(description="A new entry in an evidence item's chain of custody.")
class RecordCustodyEventInput:
    evidence_id: strawberry.ID = strawberry.field(description="The evidence item.")
    action: CustodyAction = strawberry.field(description="What happened.")
    occurred_at: datetime | None = strawberry.field(
        default=None, description="When it happened (default: now; never in the future)."
    )
    note: str | None = strawberry.field(default=None, description="Encrypted note (≤ 2,000).")


@strawberry.input(description="Share a case with another agency.")
class ShareCaseInput:
    case_id: strawberry.ID = strawberry.field(description="The case (your agency's own).")
    agency_id: strawberry.ID = strawberry.field(description="The agency to share with.")
    scope: ShareScope = strawberry.field(description="METADATA or FULL.")
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the share ends (in the future), if ever."
    )


@strawberry.input(description="Revoke a share.")
class RevokeShareInput:
    # `shareId`, not `id`: a shape the design contract fixes (DESIGN §4).
    share_id: strawberry.ID = strawberry.field(description="The share.")


@strawberry.input(description="Crypto-shred a case: destroy its data key for good.")
class ShredCaseInput:
    id: strawberry.ID = strawberry.field(description="The case (your agency's own).")


@strawberry.input(description="Place or release a legal hold on a case.")
class SetLegalHoldInput:
    id: strawberry.ID = strawberry.field(description="The case (your agency's own).")
    hold: bool = strawberry.field(description="True places the hold, false releases it.")
    reason: str = strawberry.field(
        description="Why (court order, retention duty…), recorded in the audit log sealed "
        "under the case's data key (≤ 500)."
    )


@strawberry.input(description="Narrowing of the `cases` list.")
class CaseFilter:
    status: CaseStatus | None = strawberry.field(default=None, description="Only this status.")
    category: CaseCategory | None = strawberry.field(default=None, description="Only this area.")
    tlp: Tlp | None = strawberry.field(default=None, description="Only this marking.")
    owned: bool | None = strawberry.field(
        default=None, description="true: own cases only; false: cases shared to you only."
    )
    identifier: IdentifierInput | None = strawberry.field(
        default=None,
        description=(
            "Only cases holding this identifier (in canonical form: `+60 12-345 6789` finds "
            "`012-345 6789` written by a Malaysian agency) among those whose protected fields "
            "you may read: your own and those shared to you in FULL. Searched through blind "
            "indexes; each search is audited."
        ),
    )
