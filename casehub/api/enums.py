"""The domain's enums, registered as GraphQL enums with a description on the type and on every
value (a client's generated code and IDE show them), and the API's own enums for kinds the
services keep as stored strings."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, EnumMeta
from typing import Any, TypeVar

import strawberry
from strawberry.types.enum import EnumValue

from casehub.domain import enums
from casehub.domain.errors import ErrorCode as _ErrorCode
from casehub.domain.requests import transitions as requests
from casehub.domain.requests.content import RULES
from casehub.domain.signatures import keys as signature_keys
from casehub.domain.signatures import statements as signature_statements
from casehub.domain.signatures import states as signature_states

E = TypeVar("E", bound=EnumMeta)
# The release that removes what this one deprecates (the CHANGELOG's deprecation policy).
REMOVED_IN = "the release after 0.1.0"


def described(
    cls: E,
    description: str,
    values: Mapping[str, str],
    *,
    name: str | None = None,
    renamed: Mapping[str, str] | None = None,
) -> E:
    """`cls` registered as a GraphQL enum, each value described by `values` (a name that is
    not a member fails at import; a member left out, tests/api/test_schema_lint.py). `renamed`
    maps an old GraphQL name to its new one: the new name is served, both are accepted, the old
    one is deprecated until REMOVED_IN (the stored value does not change)."""
    registered = strawberry.enum(cls, name=name, description=description)
    definition: Any = registered.__strawberry_definition__  # type: ignore[attr-defined]
    names = [value.name for value in definition.values]
    if not set(values) <= set(names):
        raise ValueError(f"{definition.name} has no {sorted(set(values) - set(names))}")
    for value in definition.values:
        value.description = values.get(value.name)
    for old, new in (renamed or {}).items():
        index = names.index(old)
        current = definition.values[index]
        # The new name first: an output value is served under the first name that has it.
        definition.values.insert(
            index, EnumValue(new, current.value, description=current.description)
        )
        current.deprecation_reason = f"Use {new} (one spelling); removed in {REMOVED_IN}."
    return registered


AgencyKind = described(
    enums.AgencyKind,
    "What kind of body an agency is.",
    {
        "LAW_ENFORCEMENT": "A police force or other law-enforcement agency.",
        "REGULATOR": "A regulator, e.g. of communications or financial services.",
        "PROSECUTOR": "A public prosecutor's office.",
        "JUDICIARY": "A court or investigating judge.",
        "INTERNATIONAL_ORGANIZATION": "An international organisation (e.g. UNODC, Interpol).",
        "SERVICE_PROVIDER": "An online platform or other service provider.",
    },
)
Role = described(
    enums.Role,
    "What a principal may do for its agency.",
    {
        "READER": "Reads what its agency can see.",
        "INVESTIGATOR": "Opens and updates cases, subjects, evidence and custody.",
        "LIAISON_OFFICER": "Sends and answers cooperation requests.",
        "AGENCY_ADMIN": "Manages its agency's tokens, shares and signing keys and reads its audit "
        "trail.",
        "SUPERVISOR": "Approves (countersigns) its agency's EMERGENCY requests to a service "
        "provider: the second pair of eyes.",
        "HUB_ADMIN": "Registers agencies (the hub operator).",
    },
)
CaseCategory = described(
    enums.CaseCategory,
    "The crime area of a case.",
    {
        "INVESTMENT_SCAM": "Investment or trading scam.",
        "FRAUD": "Other fraud.",
        "DRUG_TRAFFICKING": "Drug sales or trafficking.",
        "CHILD_SEXUAL_EXPLOITATION": "Child sexual exploitation or abuse material.",
        "ONLINE_GAMBLING": "Illegal online gambling.",
        "MONEY_LAUNDERING": "Money laundering.",
        "HUMAN_TRAFFICKING": "Trafficking in human beings.",
        "CYBERCRIME": "Attacks on computer systems and data.",
        "TERRORISM": "Terrorism.",
        "ORGANISED_CRIME": "Organised crime not named otherwise.",
        "OTHER": "Another crime area.",
    },
)
CaseStatus = described(
    enums.CaseStatus,
    "Lifecycle state of a case.",
    {
        "OPEN": "Opened, not yet worked on actively.",
        "ACTIVE": "Under active investigation.",
        "SUSPENDED": "On hold.",
        "CLOSED": "Closed.",
    },
)
Tlp = described(
    enums.Tlp,
    "FIRST TLP 2.0 marking. AMBER_STRICT cases are never shared outside the owner; "
    "RED cases only to agencies named one by one; no recipient can re-share.",
    {
        "CLEAR": "TLP:CLEAR: no limit on disclosure.",
        "GREEN": "TLP:GREEN: the community, not public.",
        "AMBER": "TLP:AMBER: recipients' organisations on a need-to-know basis.",
        "AMBER_STRICT": "TLP:AMBER+STRICT: the owner's organisation only; never shared.",
        "RED": "TLP:RED: named recipients only, shared to agencies one by one.",
    },
)
HandlingCode = described(
    enums.HandlingCode,
    "Use conditions, as the handling codes of Europol's SIENA.",
    {
        "H0": "May be used in judicial proceedings.",
        "H1": "Not to be used as evidence in judicial proceedings without the owner's consent.",
        "H2": "Not to be disseminated without the owner's permission.",
        "H3": "Other restrictions, stated by the owner.",
    },
)
SubjectKind = described(
    enums.SubjectKind,
    "What a subject is.",
    {
        "PERSON": "A natural person.",
        "ORGANISATION": "A company, group or other organization.",
        "ACCOUNT": "An account known only as such (e.g. a channel or wallet owner).",
    },
    # One spelling with AgencyKind.INTERNATIONAL_ORGANIZATION, which the design contract fixes.
    renamed={"ORGANISATION": "ORGANIZATION"},
)
IdentifierKind = described(
    enums.IdentifierKind,
    "Kind of identifier. MESSENGER_HANDLE needs `platform`; CRYPTO_WALLET needs `chain`.",
    {
        "PHONE": "A phone number, canonicalised to E.164.",
        "EMAIL": "An e-mail address.",
        "MESSENGER_HANDLE": "A messenger handle on `platform`, without `@`, case-folded.",
        "CRYPTO_WALLET": "A wallet address on `chain`, in its canonical form.",
        "BANK_ACCOUNT": "A bank account number or IBAN.",
        "IP_ADDRESS": "An IPv4 or IPv6 address.",
        "DOMAIN": "A domain name.",
        "URL": "A URL.",
        "DOCUMENT_NUMBER": "The number of an identity or travel document.",
        "OTHER": "Another identifier.",
    },
)
EvidenceKind = described(
    enums.EvidenceKind,
    "Form of an evidence item. HASH_ONLY items keep digests only, never content.",
    {
        "DOCUMENT": "A document.",
        "IMAGE": "An image.",
        "VIDEO": "A video.",
        "AUDIO": "An audio recording.",
        "CHAT_LOG": "An export of messages.",
        "FINANCIAL_RECORD": "Bank or payment records.",
        "DEVICE_IMAGE": "A forensic image of a device.",
        "NETWORK_LOG": "Network or server logs.",
        "HASH_ONLY": "Digests of material never stored (e.g. abuse imagery).",
        "OTHER": "Another form.",
    },
)
SourceReliability = described(
    enums.SourceReliability,
    "Reliability of the source: A reliable, B mostly, C not, X cannot be judged.",
    {
        "A": "No doubt about the source's authenticity, trustworthiness and competence.",
        "B": "The source has mostly proved reliable.",
        "C": "The source has mostly proved unreliable.",
        "X": "The source's reliability cannot be judged.",
    },
)
CustodyAction = described(
    enums.CustodyAction,
    "What happened to an evidence item in its chain of custody.",
    {
        "COLLECTED": "Collected or seized.",
        "RECEIVED": "Received from someone.",
        "TRANSFERRED": "Handed to someone else.",
        "ACCESSED": "Opened or read.",
        "ANALYSED": "Examined.",
        "COPIED": "Copied.",
        "SEALED": "Sealed.",
        "UNSEALED": "Unsealed.",
        "RETURNED": "Returned to its owner.",
        "DESTROYED": "Destroyed.",
    },
)
ShareScope = described(
    enums.ShareScope,
    "METADATA: clear fields only. FULL: encrypted fields are decrypted for the agency.",
    {
        "METADATA": "Clear fields only (encrypted fields read as null).",
        "FULL": "Clear fields and the encrypted ones, decrypted.",
    },
)
ViewerAccess = described(
    enums.Access,
    "What the viewer's agency may see of an object: OWNER, FULL or METADATA.",
    {
        "OWNER": "The viewer's agency owns it.",
        "FULL": "Shared in FULL: encrypted fields are decrypted.",
        "METADATA": "Clear fields only: a METADATA share or a request link.",
    },
    name="ViewerAccess",
)
ErrorCode = described(
    _ErrorCode,
    "Machine-readable cause of a UserError. LEGAL_HOLD: the case is under a legal hold, which "
    "refuses shredCase until setLegalHold releases it.",
    {
        "VALIDATION": "The input broke a rule; `field` names it.",
        "NOT_FOUND": "No such object, or not one the caller's agency can see.",
        "FORBIDDEN": "The caller sees the object, but its roles do not allow the action.",
        "INVALID_TRANSITION": "The request's state does not allow this step for this party.",
        "CONFLICT": "The object changed since it was read (`expectedVersion`) or concurrently.",
        "CLASSIFICATION_FORBIDS_SHARING": "The case's TLP marking does not allow this share.",
        "LEGAL_HOLD": "The case is under a legal hold.",
        "SIGNATURE_INVALID": "The step's signature does not verify with the named key.",
        "KEY_NOT_ACCREDITED": "The signing key is not the acting agency's, not accredited by "
        "the hub, or its accreditation does not cover the statement's time.",
        "KEY_REVOKED": "The signing key was revoked before the statement's time.",
        "STATEMENT_MISMATCH": "The signed statement does not state this step as the hub has "
        "it; `message` names the first member that differs.",
        "RATE_LIMITED": "The agency used its allowance; retry after `retryAfter` seconds.",
        "REMOTE_AGENCY": "The agency belongs to a peer hub (`Agency.homeHub`): it is reached "
        "through federation, which does not carry shares or requests yet.",
    },
)
ProtectedFieldsReason = described(
    enums.ProtectedFieldsReason,
    "Why a case's encrypted fields read as null.",
    {
        "SHREDDED": "The case was crypto-shredded: they can never be decrypted again.",
        "METADATA_ONLY": "The viewer's agency holds a METADATA share or request link only.",
    },
)
RequestKind = described(
    requests.RequestKind,
    "What is asked. At submit each kind must state: "
    + " ".join(f"{kind}: {rule}" for kind, rule in RULES.items()),
    {
        "MUTUAL_LEGAL_ASSISTANCE": "Mutual legal assistance under a treaty.",
        "INFORMATION_REQUEST": "Police-to-police information.",
        "EVIDENCE_PRESERVATION": "Preserve stored data pending a formal request.",
        "DATA_DISCLOSURE": "Disclose subscriber, traffic or content data.",
        "EMERGENCY_DISCLOSURE": "Disclose data to prevent an imminent threat to life or limb.",
        "CONTENT_REMOVAL": "Remove or disable content.",
        "JOINT_INVESTIGATION": "Set up or join a joint investigation team.",
        "ASSET_FREEZE": "Freeze accounts or wallets.",
    },
)
Priority = described(
    requests.Priority,
    "ROUTINE, URGENT or EMERGENCY (every step due in 8 hours).",
    {
        "ROUTINE": "The deadlines of the request's kind.",
        "URGENT": "To be handled before routine requests.",
        "EMERGENCY": "A threat to life or limb: every step due within 8 hours.",
    },
)
RequestStatus = described(
    requests.RequestStatus,
    "Where a request stands.",
    {
        "DRAFT": "Written, not sent: its author's alone.",
        "SUBMITTED": "Sent to the requested agency.",
        "ACKNOWLEDGED": "The requested agency confirmed receipt.",
        "ACCEPTED": "The requested agency will execute it.",
        "DECLINED": "The requested agency refused it, with a reason.",
        "FULFILLED": "Executed in full.",
        "PARTIALLY_FULFILLED": "Executed in part.",
        "WITHDRAWN": "Withdrawn by the requester, with a reason.",
        "CLOSED": "Closed by the requester after its answer.",
        "AWAITING_APPROVAL": "Submitted, waiting for a SUPERVISOR of the requesting agency to "
        "countersign (EMERGENCY requests to a service provider); not yet sent.",
    },
)
RequestAction = described(
    requests.RequestAction,
    "The step an event records (MESSAGE: a thread post).",
    {
        "CREATE": "Created as a draft.",
        "SUBMIT": "Submitted.",
        "ACKNOWLEDGE": "Acknowledged.",
        "ACCEPT": "Accepted.",
        "DECLINE": "Declined.",
        "FULFIL": "Fulfilled, in full or in part.",
        "WITHDRAW": "Withdrawn.",
        "CLOSE": "Closed.",
        "MESSAGE": "A message posted to the thread.",
        "APPROVE": "Approved (countersigned) by a supervisor of the requesting agency.",
    },
)
SigningAlgorithm = described(
    signature_keys.SigningAlgorithm,
    "How an agency key signs.",
    {
        "ED25519": "Ed25519 (RFC 8032).",
        "ED25519_ML_DSA_65": "Ed25519 and ML-DSA-65 (FIPS 204) both: a signature holds one of "
        "each and verifies only if both do (post-quantum).",
    },
)
KeyState = described(
    signature_states.KeyState,
    "Where an agency signing key is in its life.",
    {
        "REGISTERED": "Registered by its agency; the hub has not accredited it.",
        "PENDING": "Accredited from a later moment.",
        "ACCREDITED": "Accredited now: steps signed with it are accepted.",
        "EXPIRED": "Its accreditation ended.",
        "REVOKED": "Revoked: nothing signed from the revocation's moment on counts.",
    },
)
SignerRole = described(
    signature_states.SignerRole,
    "Who a signature on a request step is by.",
    {
        "SIGNER": "The agency taking the step.",
        "COUNTERSIGNER": "A supervisor of the requesting agency approving its submission.",
    },
)
StepStatus = described(
    signature_statements.StepStatus,
    "Whether a request step carries a good signature of the acting agency.",
    {
        "VERIFIED": "Signed, and the signature, the key's accreditation and the statement all "
        "check out.",
        "UNSIGNED": "Not signed.",
        "INVALID": "Signed, but something does not check out; `reason` says what.",
    },
)
Side = described(
    requests.Side,
    "Which party of a request the viewer is.",
    {"REQUESTER": "The agency that sent it.", "REQUESTED": "The agency it was sent to."},
)
FulfilOutcome = described(
    requests.FulfilOutcome,
    "Whether all (FULL) or part (PARTIAL) was done.",
    {"FULL": "Everything asked was done.", "PARTIAL": "Part of what was asked was done."},
)
Direction = described(
    requests.Direction,
    "INCOMING: sent to you. OUTGOING: sent by you.",
    {"INCOMING": "Requests sent to your agency.", "OUTGOING": "Requests your agency sent."},
)


class MessageKind(Enum):
    """What a message of a request's thread is (stored as the member's value)."""

    MESSAGE = "MESSAGE"
    DECLINE_REASON = "DECLINE_REASON"
    WITHDRAW_REASON = "WITHDRAW_REASON"
    FULFILMENT = "FULFILMENT"


described(
    MessageKind,
    "What a message of a request's thread is.",
    {
        "MESSAGE": "A post of either party.",
        "DECLINE_REASON": "The reason the requested agency gave when declining.",
        "WITHDRAW_REASON": "The reason the requester gave when withdrawing.",
        "FULFILMENT": "The requested agency's message with its fulfilment.",
    },
)


class EvidenceRole(Enum):
    """Why an evidence item is part of a request (stored as the member's value)."""

    ATTACHED = "ATTACHED"
    SUPPLIED = "SUPPLIED"


described(
    EvidenceRole,
    "Why an evidence item is part of a request.",
    {
        "ATTACHED": "Attached by the requester (readable by the requested agency while open).",
        "SUPPLIED": "Supplied by the requested agency with its fulfilment.",
    },
)


# Every action the services record (a test reads them from the source), by its stored name.
_ACTIONS: dict[str, str] = {
    "agency.register": "An agency was registered.",
    "auth.fail": "An authentication was refused (no principal; the reason is in `details`).",
    "bundle.export": "A request's signature bundle (receipts and agency signatures) was exported.",
    "case.open": "A case was opened.",
    "case.update": "A case was updated.",
    "case.share": "A case was shared.",
    "case.revoke_share": "A share was revoked.",
    "case.identifier_search": "Cases were searched by an identifier (`cases(filter:)`).",
    "case.legal_hold": "A case's legal hold was set or released.",
    "case.shred": "A case was crypto-shredded.",
    "custody.record": "A custody event was recorded.",
    "document.register": "An operator registered trusted documents.",
    "document.remove": "An operator removed a trusted document.",
    "evidence.add": "Evidence was added.",
    "field.decrypt": "Protected fields were decrypted for a reader (`fieldsRead` names them).",
    "federation.directory_apply": "A peer hub's agency directory was applied (counts of "
    "agencies and keys in `details`; `ignored` when it was not newer than the last one applied).",
    "federation.directory_conflict": "An entry or a signing key of a peer hub's directory was "
    "refused: an agency id that is this hub's own or another peer's, a key whose statements do "
    "not verify under the peer's accreditation keys, or a key id held elsewhere (`refusal` in "
    "`details`).",
    "federation.directory_publish": "An operator queued this hub's agency directory to peer hubs.",
    "federation.message_accept": "A peer hub's envelope was accepted into the federation inbox.",
    "federation.message_refuse": "A peer hub's envelope was refused (the code is in `details`).",
    "federation.message_dead": "A message to a peer hub became a dead letter (the code is the "
    "outcome).",
    "federation.outbox_retry": "An operator sent a dead federation message again.",
    "federation.peer_add": "An operator pinned a peer hub.",
    "federation.peer_remove": "An operator unpinned a peer hub.",
    "hit.check": "Identifiers were hit-checked.",
    "keys.retire": "An operator retired a key version.",
    "keys.rewrap": "An operator rewrapped data keys under a new key version.",
    "receipts.export": "A request's receipts were exported.",
    "signing_key.register": "An agency registered a signing key.",
    "signing_key.accredit": "The hub accredited an agency's signing key.",
    "signing_key.revoke": "An agency's signing key was revoked.",
    "subject.add": "A subject was added.",
    "subject.mark": "A subject was marked matchable or not.",
    "token.issue": "An API token was issued.",
    "token.revoke": "An API token was revoked.",
    **{
        f"request.{action.value.lower()}": f"Request step {action.value}."
        for action in requests.RequestAction
    },
}
_ACTIONS["request.create"] = "A cooperation request was created as a draft."
_ACTIONS["request.message"] = "A message was posted to a request's thread."

AuditAction = Enum(  # type: ignore[misc]  # built from the table above
    "AuditAction",
    {name.upper().replace(".", "_"): name for name in _ACTIONS},
)
described(
    AuditAction,
    "What an audit event records (its stored name is the value in lower case with a dot, e.g. "
    "FIELD_DECRYPT is field.decrypt).",
    {name.upper().replace(".", "_"): text for name, text in _ACTIONS.items()},
)


_OUTCOMES = {"OK": "It was done.", "UNAUTHENTICATED": "The caller could not be authenticated."}
AuditOutcome = Enum(  # type: ignore[misc]  # OK, UNAUTHENTICATED or a refusal's error code
    "AuditOutcome",
    {name: name for name in [*_OUTCOMES, *(code.value for code in _ErrorCode)]},
)
described(
    AuditOutcome,
    "How an audited operation ended: OK, or the code of its refusal.",
    {**_OUTCOMES, **{code.value: f"Refused with {code.value}." for code in _ErrorCode}},
)
