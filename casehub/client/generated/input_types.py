from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel, Upload
from .enums import (
    CaseCategory,
    EvidenceKind,
    FulfilOutcome,
    HandlingCode,
    IdentifierKind,
    Priority,
    RequestKind,
    SourceReliability,
    Tlp,
)


class AddEvidenceInput(BaseModel):
    """A new evidence item. Send content as `contentBase64` in JSON or as `content` in a multipart upload, or for items kept elsewhere (and HASH_ONLY) only `sha256`."""

    case_id: str = Field(alias="caseId")
    "The case."
    kind: EvidenceKind
    "Form of the item."
    title: str
    "Short clear-text title (≤ 200)."
    description: Optional[str] = None
    "Encrypted description."
    content_base_64: Optional[str] = Field(alias="contentBase64", default=None)
    "Content, base64-encoded; encrypted at rest."
    content: Optional[Upload] = None
    "Content as a file in a multipart upload, which needs the header `Apollo-Require-Preflight: true`; encrypted at rest."
    sha_256: Optional[str] = Field(alias="sha256", default=None)
    "SHA-256 (hex). Required without content; checked against content if sent."
    size_bytes: Optional[int] = Field(alias="sizeBytes", default=None)
    "Size of an item kept elsewhere; checked against content if sent."
    media_type: Optional[str] = Field(alias="mediaType", default=None)
    "Media type."
    collected_at: Optional[datetime] = Field(alias="collectedAt", default=None)
    "When collected."
    source_reliability: Optional[SourceReliability] = Field(
        alias="sourceReliability", default=None
    )
    "Source grading."
    information_accuracy: Optional[int] = Field(
        alias="informationAccuracy", default=None
    )
    "Information grading, 1 to 4."
    handling_code: HandlingCode = Field(alias="handlingCode", default=HandlingCode.H0)
    "Use conditions (default H0)."


class ApproveCooperationRequestInput(BaseModel):
    """Approve (countersign) a request awaiting approval."""

    id: str
    "The request."
    signature: "StepSignatureInput"
    "Your agency's signature over the APPROVE statement, which countersigns the submission's statement."


class CreateCooperationRequestInput(BaseModel):
    """A new request, created as a DRAFT only the requester sees."""

    requested_agency_id: str = Field(alias="requestedAgencyId")
    "The agency asked."
    kind: RequestKind
    "What is asked."
    priority: Priority = Priority.ROUTINE
    "How urgent."
    legal_basis: Optional[str] = Field(alias="legalBasis", default=None)
    "Treaty or law article relied on (≤ 500)."
    title: str
    "Short clear-text title (≤ 200)."
    body: str
    "The request text, encrypted (≤ 50,000)."
    case_id: Optional[str] = Field(alias="caseId", default=None)
    "A case your agency owns; the requested agency sees its clear fields while the request is being handled."
    evidence_ids: list[str] = Field(alias="evidenceIds", default_factory=lambda: [])
    "Evidence of the linked case the requested agency may read while it is open."
    particulars: Optional["RequestParticularsInput"] = None
    "Structured statements required by the kind."


class FulfilCooperationRequestInput(BaseModel):
    """Fulfil an accepted request."""

    id: str
    "The request."
    outcome: FulfilOutcome
    "FULL or PARTIAL."
    message: str
    "The response (encrypted)."
    evidence_ids: list[str] = Field(alias="evidenceIds", default_factory=lambda: [])
    "Evidence of your cases supplied to the requester, who reads it in full."
    signature: Optional["StepSignatureInput"] = None
    "Your agency's signature over the step's statement. Submit, accept, decline and fulfil take one (required where the hub's policy says: by default for EMERGENCY requests and requests to a SERVICE_PROVIDER); other steps refuse it."


class IdentifierInput(BaseModel):
    """An identifier to attach to a subject."""

    kind: IdentifierKind
    "Kind of identifier."
    value: str
    "The value, encrypted at rest (≤ 1,000)."
    platform: Optional[str] = None
    "Platform of a MESSENGER_HANDLE (required for it), e.g. telegram."
    chain: Optional[str] = None
    "Chain of a CRYPTO_WALLET (required for it), e.g. tron."


class OpenCaseInput(BaseModel):
    """Fields of a new case."""

    reference: str
    "Your agency's own case number (unique in it)."
    title: str
    "Operational name, stored in clear (≤ 200)."
    summary: str
    "Summary, encrypted at rest (≤ 20,000)."
    category: CaseCategory
    "Crime area."
    tlp: Tlp = Tlp.AMBER
    "TLP 2.0 marking (default AMBER)."
    handling_code: HandlingCode = Field(alias="handlingCode", default=HandlingCode.H0)
    "Use conditions (default H0)."


class RequestParticularsInput(BaseModel):
    """Structured statements; which are required depends on the kind."""

    offence: Optional[str] = None
    "The offence investigated."
    data_to_preserve: Optional[str] = Field(alias="dataToPreserve", default=None)
    "What data to preserve (EVIDENCE_PRESERVATION)."
    custodian_or_location: Optional[str] = Field(
        alias="custodianOrLocation", default=None
    )
    "Who holds the data or where it is (EVIDENCE_PRESERVATION)."
    follow_up_mla: Optional[bool] = Field(alias="followUpMla", default=None)
    "A mutual legal assistance request will follow (preservation)."
    imminent_threat: Optional[str] = Field(alias="imminentThreat", default=None)
    "The imminent threat (EMERGENCY priority, EMERGENCY_DISCLOSURE)."
    account_identifiers: list["IdentifierInput"] = Field(
        alias="accountIdentifiers", default_factory=lambda: []
    )
    "Accounts concerned (DATA_DISCLOSURE, ASSET_FREEZE …)."
    content_locations: list[str] = Field(
        alias="contentLocations", default_factory=lambda: []
    )
    "Where the content is (CONTENT_REMOVAL)."


class RequestReasonInput(BaseModel):
    """Decline or withdraw: the reason is required."""

    id: str
    "The request."
    reason: str
    "Why (sent to the other party, encrypted)."
    signature: Optional["StepSignatureInput"] = None
    "Your agency's signature over the step's statement. Submit, accept, decline and fulfil take one (required where the hub's policy says: by default for EMERGENCY requests and requests to a SERVICE_PROVIDER); other steps refuse it."


class RequestStepInput(BaseModel):
    """A step that needs only the request."""

    id: str
    "The request."
    signature: Optional["StepSignatureInput"] = None
    "Your agency's signature over the step's statement. Submit, accept, decline and fulfil take one (required where the hub's policy says: by default for EMERGENCY requests and requests to a SERVICE_PROVIDER); other steps refuse it."


class StepSignatureInput(BaseModel):
    """Your agency's detached signature over the step's statement (docs/SIGNATURES.md)."""

    key_thumbprint: str = Field(alias="keyThumbprint")
    "The thumbprint of your agency's accredited key that signed."
    statement: str
    "The statement, RFC 8785 canonical JSON, exactly the bytes signed (≤ 8 KiB)."
    signature: str
    "The signature over the statement's bytes: base64url Ed25519, or for a hybrid key the Ed25519 and ML-DSA-65 signatures joined by a dot (≤ 6,000)."


ApproveCooperationRequestInput.model_rebuild()
CreateCooperationRequestInput.model_rebuild()
FulfilCooperationRequestInput.model_rebuild()
RequestParticularsInput.model_rebuild()
RequestReasonInput.model_rebuild()
RequestStepInput.model_rebuild()
