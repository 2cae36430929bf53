"""The domain's enums, registered as GraphQL enums with descriptions."""

from __future__ import annotations

import strawberry

from casehub.domain import enums
from casehub.domain.errors import ErrorCode as _ErrorCode
from casehub.domain.requests import transitions as requests
from casehub.domain.requests.content import RULES

AgencyKind = strawberry.enum(enums.AgencyKind, description="What kind of body an agency is.")
Role = strawberry.enum(enums.Role, description="What a principal may do for its agency.")
CaseCategory = strawberry.enum(enums.CaseCategory, description="The crime area of a case.")
CaseStatus = strawberry.enum(enums.CaseStatus, description="Lifecycle state of a case.")
Tlp = strawberry.enum(
    enums.Tlp,
    description=(
        "FIRST TLP 2.0 marking. AMBER_STRICT cases are never shared outside the owner; "
        "RED cases only to agencies named one by one; no recipient can re-share."
    ),
)
HandlingCode = strawberry.enum(
    enums.HandlingCode, description="Use conditions, as the handling codes of Europol's SIENA."
)
SubjectKind = strawberry.enum(enums.SubjectKind, description="What a subject is.")
IdentifierKind = strawberry.enum(
    enums.IdentifierKind,
    description=(
        "Kind of identifier. MESSENGER_HANDLE needs `platform`; CRYPTO_WALLET needs `chain`."
    ),
)
EvidenceKind = strawberry.enum(
    enums.EvidenceKind,
    description="Form of an evidence item. HASH_ONLY items keep digests only, never content.",
)
SourceReliability = strawberry.enum(
    enums.SourceReliability,
    description="Reliability of the source: A reliable, B mostly, C not, X cannot be judged.",
)
CustodyAction = strawberry.enum(
    enums.CustodyAction, description="What happened to an evidence item in its chain of custody."
)
ShareScope = strawberry.enum(
    enums.ShareScope,
    description="METADATA: clear fields only. FULL: encrypted fields are decrypted for the agency.",
)
ViewerAccess = strawberry.enum(
    enums.Access,
    name="ViewerAccess",
    description="What the viewer's agency may see of an object: OWNER, FULL or METADATA.",
)
ErrorCode = strawberry.enum(
    _ErrorCode,
    description=(
        "Machine-readable cause of a UserError. LEGAL_HOLD: the case is under a legal hold, "
        "which refuses shredCase until setLegalHold releases it."
    ),
)
ProtectedFieldsReason = strawberry.enum(
    enums.ProtectedFieldsReason,
    description=(
        "Why a case's encrypted fields read as null. SHREDDED: the case was crypto-shredded and "
        "they can never be decrypted again. METADATA_ONLY: the viewer's agency holds a METADATA "
        "share or request link only."
    ),
)
RequestKind = strawberry.enum(
    requests.RequestKind,
    description=(
        "What is asked. At submit each kind must state: "
        + " ".join(f"{kind}: {rule}" for kind, rule in RULES.items())
    ),
)
Priority = strawberry.enum(
    requests.Priority, description="ROUTINE, URGENT or EMERGENCY (every step due in 8 hours)."
)
RequestStatus = strawberry.enum(requests.RequestStatus, description="Where a request stands.")
RequestAction = strawberry.enum(
    requests.RequestAction, description="The step an event records (MESSAGE: a thread post)."
)
Side = strawberry.enum(requests.Side, description="Which party of a request the viewer is.")
FulfilOutcome = strawberry.enum(
    requests.FulfilOutcome, description="Whether all (FULL) or part (PARTIAL) was done."
)
Direction = strawberry.enum(
    requests.Direction, description="INCOMING: sent to you. OUTGOING: sent by you."
)
