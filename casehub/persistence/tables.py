"""The database tables. Encrypted columns hold envelopes; no plaintext of them is stored."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    LargeBinary,
    SmallInteger,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import false as sa_false
from sqlmodel import Field, SQLModel

from casehub.persistence.types import UTCDateTime


def _ts(nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class AgencyRow(SQLModel, table=True):
    """A registered agency: this hub's own (home_hub_id NULL), or a peer hub's, as the peer's
    signed directory listed it (casehub.services.federation.directory)."""

    __tablename__ = "agency"
    __table_args__ = (
        # This hub's codes are unique among its own agencies; a peer's agency may have the
        # code of a local one (each hub chose its codes), unique among that peer's.
        Index(
            "uq_agency_local_code",
            "code",
            unique=True,
            postgresql_where=text("home_hub_id IS NULL"),
            sqlite_where=text("home_hub_id IS NULL"),
        ),
        UniqueConstraint("home_hub_id", "code", name="uq_agency_home_hub_code"),
    )
    id: UUID = Field(primary_key=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    jurisdiction: str = Field(max_length=3)
    kind: str = Field(max_length=32)
    timezone: str = Field(default="UTC", max_length=64, sa_column_kwargs={"server_default": "UTC"})
    created_at: datetime = Field(sa_column=_ts())
    home_hub_id: UUID | None = Field(default=None, foreign_key="federation_peer.hub_id")
    # When the peer's directory stopped listing it (kept: requests may refer to it).
    delisted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class PrincipalRow(SQLModel, table=True):
    """A person or tool acting for one agency."""

    __tablename__ = "principal"
    __table_args__ = (UniqueConstraint("agency_id", "name"),)
    id: UUID = Field(primary_key=True)
    agency_id: UUID = Field(foreign_key="agency.id", index=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=_ts())


class ApiTokenRow(SQLModel, table=True):
    """A bearer token, stored as its SHA-256 digest only."""

    __tablename__ = "api_token"
    id: UUID = Field(primary_key=True)
    principal_id: UUID = Field(foreign_key="principal.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    roles: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=_ts())
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # Sender-constrained (DPoP, RFC 9449): the RFC 7638 thumbprint of the key it is bound to.
    dpop_jkt: str | None = Field(default=None, max_length=43)


class DpopProofRow(SQLModel, table=True):
    """A DPoP proof already presented (RFC 9449's replay cache), by its key's thumbprint and
    jti; kept in the database so that no replica accepts it again, until `expires_at`, when
    its issued-at has left the accepted skew and the proof would be refused anyway."""

    __tablename__ = "dpop_proof"
    jkt: str = Field(primary_key=True, max_length=43)
    jti: str = Field(primary_key=True, max_length=128)
    expires_at: datetime = Field(sa_column=_ts(index=True))


class AgencySigningKeyRow(SQLModel, table=True):
    """An agency's public signing key (the private half never reaches the hub), with the hub's
    signed accreditation and revocation statements once they are made."""

    __tablename__ = "agency_signing_key"
    id: UUID = Field(primary_key=True)
    agency_id: UUID = Field(foreign_key="agency.id", index=True)
    algorithm: str = Field(max_length=24)
    thumbprint: str = Field(max_length=64, unique=True)
    public_jwk: str = Field(sa_column=Column(Text, nullable=False))
    registered_by: UUID = Field(foreign_key="principal.id")
    registered_at: datetime = Field(sa_column=_ts())
    accredited_by: UUID | None = Field(default=None, foreign_key="principal.id")
    accredited_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    not_before: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    not_after: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    accreditation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    accreditation_signature: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    accreditation_key: str | None = Field(default=None, max_length=64)
    revoked_by: UUID | None = Field(default=None, foreign_key="principal.id")
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revocation_reason: str | None = Field(default=None, max_length=500)
    revocation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    revocation_signature: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class CaseRow(SQLModel, table=True):
    """A case; `summary` is an envelope under the case's data key."""

    __tablename__ = "case_file"
    __table_args__ = (
        UniqueConstraint("owner_agency_id", "reference"),
        # An agency's own cases newest first: the owned leg of the cases page walks it.
        Index("ix_case_file_owner_id", "owner_agency_id", "id"),
    )
    id: UUID = Field(primary_key=True)
    owner_agency_id: UUID = Field(foreign_key="agency.id", index=True)
    reference: str = Field(max_length=100)
    title: str = Field(max_length=200)
    summary: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    category: str = Field(max_length=32)
    status: str = Field(max_length=16)
    tlp: str = Field(max_length=16)
    handling_code: str = Field(max_length=4)
    version: int = 1
    created_by: UUID = Field(foreign_key="principal.id")
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    # A legal hold refuses crypto-shredding; `shredded_at` marks a case whose data key is gone.
    legal_hold: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    shredded_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class DataKeyWrapRow(SQLModel, table=True):
    """One agency's wrap of a case's data key under that agency's KEK at a version."""

    __tablename__ = "data_key_wrap"
    __table_args__ = (UniqueConstraint("scope_id", "agency_id"),)
    id: UUID = Field(primary_key=True)
    scope_id: UUID = Field(index=True)
    generation: int = 1
    agency_id: UUID = Field(foreign_key="agency.id", index=True)
    kek_version: int
    wrapped: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=_ts())


class SubjectRow(SQLModel, table=True):
    """A person, organisation or account in a case."""

    __tablename__ = "subject"
    id: UUID = Field(primary_key=True)
    case_id: UUID = Field(foreign_key="case_file.id", index=True)
    kind: str = Field(max_length=16)
    display_name: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The owner's say on hit checks (None: by the case's TLP, see
    # casehub.domain.deconfliction.matching).
    matchable: bool | None = Field(default=None)
    created_at: datetime = Field(sa_column=_ts())


class IdentifierRow(SQLModel, table=True):
    """An identifier of a subject; the value is an envelope."""

    __tablename__ = "identifier"
    id: UUID = Field(primary_key=True)
    subject_id: UUID = Field(foreign_key="subject.id", index=True)
    case_id: UUID = Field(foreign_key="case_file.id", index=True)
    kind: str = Field(max_length=32)
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    platform: str | None = Field(default=None, max_length=64)
    chain: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=_ts())


class IdentifierIndexRow(SQLModel, table=True):
    """Keyed digests of one identifier's canonical value, for search and deconfliction.

    `blind_index` is keyed per owner agency (search inside what an agency may read);
    `match_token` is keyed hub-wide (hit checks across agencies). Deleted with the case's key.
    """

    __tablename__ = "identifier_index"
    __table_args__ = (
        Index("ix_identifier_index_blind", "agency_id", "blind_index"),
        Index("ix_identifier_index_match", "match_token"),
    )
    identifier_id: UUID = Field(primary_key=True, foreign_key="identifier.id")
    subject_id: UUID = Field(foreign_key="subject.id", index=True)
    case_id: UUID = Field(foreign_key="case_file.id", index=True)
    agency_id: UUID = Field(foreign_key="agency.id")
    blind_index: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    match_token: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class HitCheckRow(SQLModel, table=True):
    """One hit check: who asked and for how many identifiers (the rate limit counts these)."""

    __tablename__ = "hit_check"
    __table_args__ = (Index("ix_hit_check_agency_at", "agency_id", "created_at"),)
    id: UUID = Field(primary_key=True)
    agency_id: UUID = Field(foreign_key="agency.id")
    principal_id: UUID = Field(foreign_key="principal.id")
    identifiers: int
    created_at: datetime = Field(sa_column=_ts())


class HitNoticeRow(SQLModel, table=True):
    """Tells an agency that another one checked an identifier its subjects hold."""

    __tablename__ = "hit_notice"
    __table_args__ = (
        Index("ix_hit_notice_agency_seq", "agency_id", "seq"),
        Index("ix_hit_notice_position", "position_xid", "seq"),
    )
    seq: int | None = Field(default=None, primary_key=True)
    id: UUID = Field(unique=True)
    hit_check_id: UUID = Field(foreign_key="hit_check.id")
    agency_id: UUID = Field(foreign_key="agency.id")
    asking_agency_id: UUID = Field(foreign_key="agency.id")
    identifier_kind: str = Field(max_length=32)
    case_ids: str = Field(default="[]")  # JSON list: the notified agency's matching cases
    created_at: datetime = Field(sa_column=_ts())
    # The feed position's first part (see casehub.persistence.horizon): delivered in
    # (position_xid, seq) order once no transaction that could commit before it is running.
    position_xid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class EvidenceRow(SQLModel, table=True):
    """An evidence item; description and content are envelopes."""

    __tablename__ = "evidence"
    id: UUID = Field(primary_key=True)
    case_id: UUID = Field(foreign_key="case_file.id", index=True)
    kind: str = Field(max_length=32)
    title: str = Field(max_length=200)
    description: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    sha256: str = Field(max_length=64)
    size_bytes: int
    media_type: str | None = Field(default=None, max_length=255)
    collected_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    source_reliability: str | None = Field(default=None, max_length=1)
    information_accuracy: str | None = Field(default=None, max_length=1)
    handling_code: str = Field(max_length=4)
    created_by: UUID = Field(foreign_key="principal.id")
    created_at: datetime = Field(sa_column=_ts())


class CustodyEventRow(SQLModel, table=True):
    """One append-only entry in an evidence item's chain of custody; the note is an envelope."""

    __tablename__ = "custody_event"
    id: UUID = Field(primary_key=True)
    evidence_id: UUID = Field(foreign_key="evidence.id", index=True)
    case_id: UUID = Field(foreign_key="case_file.id", index=True)
    action: str = Field(max_length=16)
    actor_principal_id: UUID = Field(foreign_key="principal.id")
    actor_agency_id: UUID = Field(foreign_key="agency.id")
    note: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    occurred_at: datetime = Field(sa_column=_ts())
    recorded_at: datetime = Field(sa_column=_ts())


class CaseShareRow(SQLModel, table=True):
    """A grant of one case to one other agency."""

    __tablename__ = "case_share"
    __table_args__ = (Index("ix_case_share_agency_case", "agency_id", "case_id"),)
    id: UUID = Field(primary_key=True)
    case_id: UUID = Field(foreign_key="case_file.id", index=True)
    agency_id: UUID = Field(foreign_key="agency.id")
    scope: str = Field(max_length=16)
    expires_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_by: UUID = Field(foreign_key="principal.id")
    created_at: datetime = Field(sa_column=_ts())


class AuditEventRow(SQLModel, table=True):
    """One link of the audit hash chain; never holds plaintext of protected fields."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index(
            "ix_audit_event_pending",
            "txid",
            "seq",
            postgresql_where=text("leaf_index IS NULL"),
            sqlite_where=text("leaf_index IS NULL"),
        ),
    )
    seq: int | None = Field(default=None, primary_key=True)
    id: UUID = Field(unique=True)
    occurred_at: datetime = Field(sa_column=_ts(index=True))
    actor_principal_id: UUID | None = None
    actor_agency_id: UUID | None = Field(default=None, index=True)
    action: str = Field(max_length=64)
    object_type: str | None = Field(default=None, max_length=32)
    object_id: UUID | None = Field(default=None, index=True)
    object_agency_id: UUID | None = Field(default=None, index=True)
    outcome: str = Field(max_length=32)
    details: str = Field(default="{}")
    # The writing transaction's id on PostgreSQL (0 on SQLite): the sequencer integrates an
    # entry only once every transaction that could still commit an older one has ended.
    txid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # Its place in the Merkle log, set by the sequencer (None: not integrated yet).
    leaf_index: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, unique=True)
    )


class AuditNodeRow(SQLModel, table=True):
    """The hash of one perfect subtree of the audit log's Merkle tree (level 0: a leaf)."""

    __tablename__ = "audit_node"
    level: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AuditTreeHeadRow(SQLModel, table=True):
    """A signed tree head: the hub's signature over the log's size and root at one moment."""

    __tablename__ = "audit_tree_head"
    tree_size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root_hash: str = Field(max_length=64)
    timestamp_ms: int = Field(sa_column=Column(BigInteger, nullable=False))
    key_id: str = Field(max_length=64)
    signature: str = Field(max_length=200)


class CooperationRequestRow(SQLModel, table=True):
    """A request from one agency to another; body and particulars are envelopes."""

    __tablename__ = "cooperation_request"
    __table_args__ = (
        Index("ix_request_requested_status", "requested_agency_id", "status"),
        Index("ix_request_requester_status", "requester_agency_id", "status"),
        # The cases linked to an agency's requests in case order: the cases page's linked leg.
        Index("ix_request_requested_case", "requested_agency_id", "case_id"),
    )
    id: UUID = Field(primary_key=True)
    requester_agency_id: UUID = Field(foreign_key="agency.id")
    requested_agency_id: UUID = Field(foreign_key="agency.id")
    kind: str = Field(max_length=32)
    priority: str = Field(max_length=16)
    legal_basis: str | None = Field(default=None, max_length=500)
    title: str = Field(max_length=200)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    particulars: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    case_id: UUID | None = Field(default=None, foreign_key="case_file.id", index=True)
    status: str = Field(max_length=24)
    outcome: str | None = Field(default=None, max_length=16)
    version: int = 1
    created_by: UUID = Field(foreign_key="principal.id")
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    submitted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    acknowledge_by: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    decide_by: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    due_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    hold_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # The deadline of the step the request waits on, kept with its status so that "overdue"
    # is one indexed comparison.
    pending_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True, index=True))


class RequestEventRow(SQLModel, table=True):
    """One transition of a request, with the hub's signed receipt chained per request."""

    __tablename__ = "request_event"
    __table_args__ = (
        UniqueConstraint("request_id", "number"),
        Index("ix_request_event_position", "position_xid", "seq"),
    )
    seq: int | None = Field(default=None, primary_key=True)
    id: UUID = Field(unique=True)
    request_id: UUID = Field(foreign_key="cooperation_request.id", index=True)
    number: int
    action: str = Field(max_length=16)
    from_status: str | None = Field(default=None, max_length=24)
    to_status: str = Field(max_length=24)
    actor_agency_id: UUID = Field(foreign_key="agency.id")
    actor_principal_id: UUID = Field(foreign_key="principal.id")
    requester_agency_id: UUID = Field(foreign_key="agency.id", index=True)
    requested_agency_id: UUID = Field(foreign_key="agency.id", index=True)
    visible_to_requested: bool
    message_id: UUID | None = None
    occurred_at: datetime = Field(sa_column=_ts())
    digest: str = Field(max_length=64)
    prev_digest: str = Field(max_length=64)
    signature: str = Field(max_length=200)
    key_id: str = Field(max_length=64)
    payload: str = Field(default="{}")
    # The feed position's first part (see casehub.persistence.horizon); never below the previous
    # event's of the same request, so a request's events are delivered in their order.
    position_xid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class RequestSignatureRow(SQLModel, table=True):
    """An agency's detached signature over the statement of one request step, as the client
    computed and signed it; the step's receipt commits to it. A nonce is used once per key."""

    __tablename__ = "request_signature"
    __table_args__ = (UniqueConstraint("key_id", "nonce"),)
    id: UUID = Field(primary_key=True)
    request_id: UUID = Field(foreign_key="cooperation_request.id", index=True)
    event_id: UUID = Field(foreign_key="request_event.id", index=True)
    action: str = Field(max_length=16)
    # The signing agency and principal are the event's actor: not stored twice.
    key_id: UUID = Field(foreign_key="agency_signing_key.id")
    statement: str = Field(sa_column=Column(Text, nullable=False))
    signature: str = Field(sa_column=Column(Text, nullable=False))
    nonce: str = Field(max_length=64)
    issued_at: datetime = Field(sa_column=_ts())
    created_at: datetime = Field(sa_column=_ts())


class RequestMessageRow(SQLModel, table=True):
    """A message in a request's thread (also reasons and the fulfilment); body is an envelope."""

    __tablename__ = "request_message"
    id: UUID = Field(primary_key=True)
    request_id: UUID = Field(foreign_key="cooperation_request.id", index=True)
    kind: str = Field(max_length=16)
    author_agency_id: UUID = Field(foreign_key="agency.id")
    author_principal_id: UUID = Field(foreign_key="principal.id")
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=_ts())


class RequestEvidenceRow(SQLModel, table=True):
    """Evidence attached by the requester or supplied by the requested agency, re-sealed
    under the request's data key so that the other party reads it without the case key."""

    __tablename__ = "request_evidence"
    id: UUID = Field(primary_key=True)
    request_id: UUID = Field(foreign_key="cooperation_request.id", index=True)
    evidence_id: UUID = Field(foreign_key="evidence.id")
    role: str = Field(max_length=16)
    description: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    added_at: datetime = Field(sa_column=_ts())


class RegisteredDocumentRow(SQLModel, table=True):
    """A GraphQL document agency tools may name by id (casehub.services.documents): hub-wide,
    owned by no agency; its text is a query, not a secret."""

    __tablename__ = "registered_document"
    id: str = Field(primary_key=True, max_length=71)  # "sha256:" and 64 hex digits
    body: str = Field(sa_column=Column(Text, nullable=False))
    name: str | None = Field(default=None, max_length=200)
    source: str = Field(max_length=16)
    added_at: datetime = Field(sa_column=_ts())


class FederationPeerRow(SQLModel, table=True):
    """A peer hub pinned by an operator after an out-of-band fingerprint check. Removing a
    peer keeps its row (removed_at), so envelopes it sent stay attributable to a document;
    only rows with no removed_at are pinned."""

    __tablename__ = "federation_peer"
    hub_id: UUID = Field(primary_key=True)
    name: str = Field(max_length=100)
    url: str = Field(max_length=2048)
    fingerprint: str = Field(max_length=71)  # "sha256:" and 64 hex digits
    # The peer's verified hub document, its RFC 8785 text (what the fingerprint is over).
    document: str = Field(sa_column=Column(Text, nullable=False))
    added_at: datetime = Field(sa_column=_ts())
    removed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # the issuedAt of the peer's last agency directory applied (an older one
    # arriving later is ignored).
    directory_issued_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # The peer hub's accreditation JWKS as its last directory carrying one gave it (this hub's
    # own accreditation keys left out): what its agencies' keys are checked against.
    accreditation_keys: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class FederationInboxRow(SQLModel, table=True):
    """An envelope a peer hub delivered, accepted once by its message id, as received: the
    payload stays sealed at rest (the envelope text) and the signed ack is kept so that a
    retry of the same envelope gets the same answer. A sequence is used once per sender's
    conversation."""

    __tablename__ = "federation_inbox"
    __table_args__ = (UniqueConstraint("sender", "conversation", "sequence"),)
    message_id: UUID = Field(primary_key=True)
    sender: UUID = Field(foreign_key="federation_peer.hub_id")
    conversation: UUID
    # Up to 2**53 - 1 (casehub.domain.federation.envelopes.SEQUENCE_MAX).
    sequence: int = Field(sa_column=Column(BigInteger, nullable=False))
    type: str = Field(max_length=64)
    received_at: datetime = Field(sa_column=_ts())
    digest: str = Field(max_length=71)  # "sha256:" and 64 hex digits of the envelope's bytes
    envelope: str = Field(sa_column=Column(Text, nullable=False))
    ack: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(max_length=16)


class FederationOutboxRow(SQLModel, table=True):
    """A message to a peer hub, queued in the transaction of the change it tells of and kept
    until the peer acknowledges it (DELIVERED, with the peer's signed ack) or the sender gives
    up (DEAD, until an operator retries it). The payload rests sealed to this hub's own key;
    the envelope is kept as last sent, so a retry sends the same bytes. A sequence is used once
    per peer's conversation, and is sent only after the one before it was acknowledged."""

    __tablename__ = "federation_outbox"
    __table_args__ = (
        UniqueConstraint("peer", "conversation", "sequence"),
        # The delivery worker's pick: due pending messages, oldest first.
        Index("ix_federation_outbox_due", "state", "next_attempt_at"),
    )
    message_id: UUID = Field(primary_key=True)
    peer: UUID = Field(foreign_key="federation_peer.hub_id")
    conversation: UUID
    # Up to 2**53 - 1 (casehub.domain.federation.envelopes.SEQUENCE_MAX).
    sequence: int = Field(sa_column=Column(BigInteger, nullable=False))
    type: str = Field(max_length=64)
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # HPKE, to this hub
    envelope: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    state: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_ts())
    last_error_code: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=_ts())
    delivered_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    ack: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class RemoteSigningKeyRow(SQLModel, table=True):
    """A peer agency's public signing key, as its home hub's signed directory listed it, with
    that hub's accreditation (and revocation) checked against the hub's accreditation keys
    before it was stored. Apart from agency_signing_key: none of that table's rules apply (no
    principal here registered it, this hub neither accredits nor revokes it, no step signed
    here locks it). Its id is the key's id at its home hub; withdrawn_at marks a key the
    home hub stopped listing (kept: it may have signed steps)."""

    __tablename__ = "remote_signing_key"
    __table_args__ = (UniqueConstraint("home_hub_id", "thumbprint"),)
    id: UUID = Field(primary_key=True)
    agency_id: UUID = Field(foreign_key="agency.id", index=True)
    home_hub_id: UUID = Field(foreign_key="federation_peer.hub_id")
    algorithm: str = Field(max_length=24)
    thumbprint: str = Field(max_length=64)
    public_jwk: str = Field(sa_column=Column(Text, nullable=False))
    registered_at: datetime = Field(sa_column=_ts())  # at its home hub, as it says
    accreditation: str = Field(sa_column=Column(Text, nullable=False))
    accreditation_signature: str = Field(sa_column=Column(Text, nullable=False))
    accreditation_key: str = Field(max_length=64)
    # From the accreditation statement (its notBefore, notAfter, issuedAt).
    not_before: datetime = Field(sa_column=_ts())
    not_after: datetime = Field(sa_column=_ts())
    accredited_at: datetime = Field(sa_column=_ts())
    revocation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    revocation_signature: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # From the revocation statement (its revokedAt and reason).
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revocation_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    withdrawn_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
