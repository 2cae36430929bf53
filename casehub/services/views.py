"""Read models the API renders: plain attributes, protected fields kept sealed until asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from casehub.crypto import DataKey, FieldContext, open_field
from casehub.domain.enums import (
    Access,
    AgencyKind,
    CaseCategory,
    CaseStatus,
    CustodyAction,
    EvidenceKind,
    HandlingCode,
    IdentifierKind,
    ProtectedFieldsReason,
    ShareScope,
    SourceReliability,
    SubjectKind,
    Tlp,
)
from casehub.domain.requests.transitions import (
    FulfilOutcome,
    Priority,
    RequestAction,
    RequestKind,
    RequestStatus,
    Side,
)
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.statements import StepStatus
from casehub.domain.signatures.states import KeyState, SignerRole
from casehub.services.runtime import Scope


class Sealed:
    """A protected value: opened only for a viewer holding the data key, and each opening noted."""

    __slots__ = ("blob", "context", "key", "object_type")

    def __init__(
        self, blob: bytes | None, context: FieldContext, key: DataKey | None, object_type: str
    ) -> None:
        self.blob = blob
        self.context = context
        self.key = key
        self.object_type = object_type

    def __repr__(self) -> str:
        return f"Sealed({self.context.table}.{self.context.column})"

    def reveal_bytes(self, scope: Scope) -> bytes | None:
        """The plaintext bytes, or None when there is none or the viewer may not read it."""
        if self.blob is None or self.key is None:
            return None
        plaintext = open_field(self.key, self.context, self.blob)
        scope.note_read(
            self.context.owner_id, self.object_type, self.context.row_id, self.context.column
        )
        return plaintext

    def reveal(self, scope: Scope) -> str | None:
        """The plaintext as text."""
        plaintext = self.reveal_bytes(scope)
        return None if plaintext is None else plaintext.decode("utf-8")


@dataclass(slots=True)
class AgencyView:
    """A registered agency: this hub's own, or a peer hub's (home_hub_id)."""

    id: UUID
    code: str
    name: str
    jurisdiction: str
    kind: AgencyKind
    timezone: str
    home_hub_id: UUID | None = None  # None: this hub's own agency
    delisted: bool = False  # its hub's directory no longer lists it


@dataclass(frozen=True, slots=True)
class PeerHubView:
    """A peer hub as agencies name it: its id and name (never its URL)."""

    hub_id: UUID
    name: str


@dataclass(frozen=True, slots=True)
class AccreditationView:
    """The hub's signed accreditation of an agency key."""

    statement: str
    signature: str
    hub_key: str
    not_before: datetime
    not_after: datetime
    accredited_at: datetime


@dataclass(frozen=True, slots=True)
class RevocationView:
    """The hub's signed revocation of an agency key."""

    statement: str
    signature: str
    revoked_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class SigningKeyView:
    """An agency's public signing key, with the hub's statements about it."""

    id: UUID
    agency_id: UUID
    algorithm: SigningAlgorithm
    thumbprint: str
    public_jwk: str
    state: KeyState
    registered_at: datetime
    accreditation: AccreditationView | None
    revocation: RevocationView | None


@dataclass(frozen=True, slots=True)
class SignatureCheckView:
    """One agency signature on a request step, verified."""

    role: SignerRole
    event_number: int
    agency_id: UUID
    statement: str
    signature: str
    status: StepStatus
    reason: str | None
    key: SigningKeyView


@dataclass(frozen=True, slots=True)
class StepVerificationView:
    """A signable step of a request and how its signatures verify."""

    event_number: int
    action: RequestAction
    status: StepStatus
    reason: str | None
    required: bool
    signatures: list[SignatureCheckView]


@dataclass(slots=True)
class CaseView:
    """A case as one viewer may see it."""

    id: UUID
    owner_agency_id: UUID
    reference: str
    title: str
    summary: Sealed
    category: CaseCategory
    status: CaseStatus
    tlp: Tlp
    handling_code: HandlingCode
    version: int
    created_at: datetime
    updated_at: datetime
    viewer_access: Access
    legal_hold: bool = False
    shredded_at: datetime | None = None
    protected_fields_reason: ProtectedFieldsReason | None = None


@dataclass(slots=True)
class SubjectView:
    """A subject of a case."""

    id: UUID
    case_id: UUID
    kind: SubjectKind
    display_name: Sealed
    matchable: bool | None
    created_at: datetime


@dataclass(slots=True)
class IdentifierView:
    """An identifier of a subject."""

    id: UUID
    subject_id: UUID
    case_id: UUID
    kind: IdentifierKind
    value: Sealed
    platform: str | None
    chain: str | None


@dataclass(slots=True)
class EvidenceView:
    """An evidence item."""

    id: UUID
    case_id: UUID
    kind: EvidenceKind
    title: str
    description: Sealed
    content: Sealed
    sha256: str
    size_bytes: int
    media_type: str | None
    collected_at: datetime | None
    source_reliability: SourceReliability | None
    information_accuracy: int | None
    handling_code: HandlingCode
    created_at: datetime
    viewer_access: Access


@dataclass(slots=True)
class CustodyEventView:
    """One entry of an evidence item's chain of custody."""

    id: UUID
    evidence_id: UUID
    action: CustodyAction
    actor_agency_id: UUID
    note: Sealed
    occurred_at: datetime
    recorded_at: datetime


@dataclass(slots=True)
class ShareView:
    """A share of a case to another agency."""

    id: UUID
    case_id: UUID
    agency_id: UUID
    scope: ShareScope
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime
    active: bool


@dataclass(slots=True)
class RequestView:
    """A cooperation request as one of its parties sees it."""

    id: UUID
    requester_agency_id: UUID
    requested_agency_id: UUID
    kind: RequestKind
    priority: Priority
    legal_basis: str | None
    title: str
    body: Sealed
    particulars: Sealed
    case_id: UUID | None
    status: RequestStatus
    outcome: FulfilOutcome | None
    version: int
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    acknowledge_by: datetime | None
    decide_by: datetime | None
    due_at: datetime | None
    hold_until: datetime | None
    is_overdue: bool
    viewer_side: Side


@dataclass(slots=True)
class RequestEventView:
    """One step of a request with the hub's signed receipt."""

    id: UUID
    seq: int
    request_id: UUID
    number: int
    action: RequestAction
    from_status: RequestStatus | None
    to_status: RequestStatus
    actor_agency_id: UUID
    occurred_at: datetime
    message_id: UUID | None
    digest: str
    prev_digest: str
    signature: str
    key_id: str
    payload: str


@dataclass(slots=True)
class RequestMessageView:
    """A message of a request's thread."""

    id: UUID
    request_id: UUID
    kind: str
    author_agency_id: UUID
    body: Sealed
    created_at: datetime


@dataclass(slots=True)
class RequestEvidenceView:
    """Evidence attached to or supplied for a request, readable by both parties in full."""

    id: UUID
    evidence_id: UUID
    request_id: UUID
    role: str
    kind: EvidenceKind
    title: str
    sha256: str
    size_bytes: int
    media_type: str | None
    collected_at: datetime | None
    description: Sealed
    content: Sealed


@dataclass(slots=True)
class AgencyHitView:
    """Another agency holding a checked identifier, and in how many of its cases."""

    agency_id: UUID
    case_count: int


@dataclass(slots=True)
class HitResultView:
    """The answer for one checked identifier, in the order asked."""

    kind: IdentifierKind
    hits: list[AgencyHitView]


@dataclass(slots=True)
class HitNoticeView:
    """Tells an agency that another one checked an identifier held in its cases."""

    id: UUID
    seq: int
    asking_agency_id: UUID
    identifier_kind: IdentifierKind
    case_ids: list[UUID]
    created_at: datetime
