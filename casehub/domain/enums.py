"""Enumerations of the domain; their member names are the API's enum values."""

from __future__ import annotations

from enum import StrEnum


class AgencyKind(StrEnum):
    """What kind of body an agency is."""

    LAW_ENFORCEMENT = "LAW_ENFORCEMENT"
    REGULATOR = "REGULATOR"
    PROSECUTOR = "PROSECUTOR"
    JUDICIARY = "JUDICIARY"
    INTERNATIONAL_ORGANIZATION = "INTERNATIONAL_ORGANIZATION"
    SERVICE_PROVIDER = "SERVICE_PROVIDER"


class Role(StrEnum):
    """What a principal may do inside what its agency can see."""

    READER = "READER"
    INVESTIGATOR = "INVESTIGATOR"
    LIAISON_OFFICER = "LIAISON_OFFICER"
    AGENCY_ADMIN = "AGENCY_ADMIN"
    SUPERVISOR = "SUPERVISOR"
    HUB_ADMIN = "HUB_ADMIN"


class CaseCategory(StrEnum):
    """The crime area a case is about."""

    INVESTMENT_SCAM = "INVESTMENT_SCAM"
    FRAUD = "FRAUD"
    DRUG_TRAFFICKING = "DRUG_TRAFFICKING"
    CHILD_SEXUAL_EXPLOITATION = "CHILD_SEXUAL_EXPLOITATION"
    ONLINE_GAMBLING = "ONLINE_GAMBLING"
    MONEY_LAUNDERING = "MONEY_LAUNDERING"
    HUMAN_TRAFFICKING = "HUMAN_TRAFFICKING"
    CYBERCRIME = "CYBERCRIME"
    TERRORISM = "TERRORISM"
    ORGANISED_CRIME = "ORGANISED_CRIME"
    OTHER = "OTHER"


class CaseStatus(StrEnum):
    """Lifecycle of a case."""

    OPEN = "OPEN"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    CLOSED = "CLOSED"


class Tlp(StrEnum):
    """FIRST Traffic Light Protocol 2.0 marking."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER_STRICT"
    RED = "RED"


class HandlingCode(StrEnum):
    """Use conditions, as the handling codes of Europol's SIENA."""

    H0 = "H0"
    H1 = "H1"
    H2 = "H2"
    H3 = "H3"


class SubjectKind(StrEnum):
    """What a subject of a case is."""

    PERSON = "PERSON"
    ORGANISATION = "ORGANISATION"
    ACCOUNT = "ACCOUNT"


class IdentifierKind(StrEnum):
    """The kind of an identifier held on a subject."""

    PHONE = "PHONE"
    EMAIL = "EMAIL"
    MESSENGER_HANDLE = "MESSENGER_HANDLE"
    CRYPTO_WALLET = "CRYPTO_WALLET"
    BANK_ACCOUNT = "BANK_ACCOUNT"
    IP_ADDRESS = "IP_ADDRESS"
    DOMAIN = "DOMAIN"
    URL = "URL"
    DOCUMENT_NUMBER = "DOCUMENT_NUMBER"
    OTHER = "OTHER"


class EvidenceKind(StrEnum):
    """The form of an evidence item."""

    DOCUMENT = "DOCUMENT"
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    AUDIO = "AUDIO"
    CHAT_LOG = "CHAT_LOG"
    FINANCIAL_RECORD = "FINANCIAL_RECORD"
    DEVICE_IMAGE = "DEVICE_IMAGE"
    NETWORK_LOG = "NETWORK_LOG"
    HASH_ONLY = "HASH_ONLY"
    OTHER = "OTHER"


class SourceReliability(StrEnum):
    """Reliability of the source (Europol 4x4 grading)."""

    A = "A"
    B = "B"
    C = "C"
    X = "X"


class CustodyAction(StrEnum):
    """What happened to an evidence item in its chain of custody."""

    COLLECTED = "COLLECTED"
    RECEIVED = "RECEIVED"
    TRANSFERRED = "TRANSFERRED"
    ACCESSED = "ACCESSED"
    ANALYSED = "ANALYSED"
    COPIED = "COPIED"
    SEALED = "SEALED"
    UNSEALED = "UNSEALED"
    RETURNED = "RETURNED"
    DESTROYED = "DESTROYED"


class ShareScope(StrEnum):
    """How much of a case a share grants."""

    METADATA = "METADATA"
    FULL = "FULL"


class Access(StrEnum):
    """What the viewer's agency may see of an object."""

    OWNER = "OWNER"
    FULL = "FULL"
    METADATA = "METADATA"

    @property
    def decrypts(self) -> bool:
        """Whether this access level may read encrypted fields."""
        return self is not Access.METADATA


class ProtectedFieldsReason(StrEnum):
    """Why a viewer reads a case's encrypted fields as null."""

    SHREDDED = "SHREDDED"
    METADATA_ONLY = "METADATA_ONLY"
