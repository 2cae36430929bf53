"""GraphQL types of the audit trail as an agency administrator reads it."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import strawberry

from casehub.api.agencies.types import Agency, agency_of
from casehub.api.context import Info
from casehub.api.enums import AuditAction, AuditOutcome
from casehub.api.ids import to_global_id
from casehub.domain.audit.tree_head import TreeHead, head_statement
from casehub.services.audit import log as audit_log
from casehub.services.audit import reads as audit_reads


@strawberry.input(description="Narrowing of the audit events listed.")
class AuditEventFilter:
    action: str | None = strawberry.field(
        default=None,
        description="Only this action: an AuditAction (FIELD_DECRYPT) or, as before, its stored "
        "name (field.decrypt).",
    )
    object_type: str | None = strawberry.field(
        default=None, description="Only events about objects of this type, e.g. Evidence."
    )
    since: datetime | None = strawberry.field(
        default=None, description="Only events at or after this instant."
    )
    until: datetime | None = strawberry.field(
        default=None, description="Only events before this instant."
    )


@strawberry.type(description="Protected fields of one object decrypted for the actor.")
class AuditFieldRead:
    object_type: str = strawberry.field(description="Type of the object, e.g. Evidence.")
    object_id: strawberry.ID = strawberry.field(description="Global id of the object.")
    fields: list[str] = strawberry.field(description="Names of the fields read (never values).")


@strawberry.type(description="One detail of an event that carries no protected value.")
class AuditDetail:
    key: str = strawberry.field(description="Name of the detail, e.g. scope or from.")
    value: str = strawberry.field(description='Its value as JSON, e.g. "FULL" or 3.')


@strawberry.type(
    description=(
        "Proof that an event is in the audit log (RFC 9162 §2.1.3): the audit path from the "
        "event's leaf to the root of the signed tree head of `treeSize` entries."
    )
)
class AuditInclusionProof:
    leaf_index: int = strawberry.field(description="The event's place in the log, from 0.")
    leaf_hash: str = strawberry.field(
        description="The event's leaf hash (hex SHA-256 of 0x00 and the entry as logged), where "
        "the path starts; it covers fields this view does not show (the acting principal)."
    )
    tree_size: int = strawberry.field(description="Size of the signed tree head proved against.")
    root_hash: str = strawberry.field(description="That tree head's root (hex SHA-256).")
    hashes: list[str] = strawberry.field(description="The audit path, leaf upwards (hex).")

    @classmethod
    def of(cls, proof: audit_log.Inclusion) -> AuditInclusionProof:
        """Render a proof."""
        return cls(
            leaf_index=proof.leaf_index,
            leaf_hash=proof.leaf_hash.hex(),
            tree_size=proof.tree_size,
            root_hash=proof.root.hex(),
            hashes=[node.hex() for node in proof.hashes],
        )


@strawberry.type(
    description=(
        "The hub's signature over the audit log's size and Merkle root at one moment. Keep "
        "it: a later `auditConsistencyProof` from its size shows the log only grew, and a hub "
        "that rewrote or cut its history cannot produce one."
    )
)
class AuditTreeHead:
    tree_size: int = strawberry.field(description="Entries the tree holds.")
    root_hash: str = strawberry.field(description="Merkle root (RFC 9162), hex SHA-256.")
    signed_at: datetime = strawberry.field(description="When the hub signed it (UTC).")
    key_id: str = strawberry.field(
        description="Hub key that signed; see /.well-known/casehub-receipts.json."
    )
    statement: str = strawberry.field(
        description="The exact JSON the signature covers (RFC 8785 canonical form)."
    )
    signature: str = strawberry.field(
        description="Ed25519 over SHA-256 of `statement`, unpadded base64url."
    )

    @classmethod
    def of(cls, head: TreeHead) -> AuditTreeHead:
        """Render a signed tree head."""
        return cls(
            tree_size=head.size,
            root_hash=head.root.hex(),
            signed_at=datetime.fromtimestamp(head.timestamp_ms / 1000, tz=UTC),
            key_id=head.key_id,
            statement=head_statement(head).decode("ascii"),
            signature=head.signature,
        )


@strawberry.type(
    description="Proof that the log of `toSize` entries extends the one of `fromSize` "
    "(RFC 9162 §2.1.4)."
)
class AuditConsistencyProof:
    from_size: int = strawberry.field(description="The older tree head's size.")
    to_size: int = strawberry.field(description="The newer tree head's size.")
    hashes: list[str] = strawberry.field(description="The proof's hashes, in order (hex).")


@strawberry.type(
    description=(
        "One entry of the tamper-evident audit log: who did what, to which object, when, "
        "with what outcome. Never holds the values of protected fields."
    )
)
class AuditEvent:
    id: strawberry.ID = strawberry.field(description="Opaque id of the event.")
    sequence: int = strawberry.field(
        description="Order in which events were written (the log's order is `inclusion`'s)."
    )
    at: datetime = strawberry.field(description="When it happened (UTC).")
    action: AuditAction = strawberry.field(description="What was done.")
    outcome: AuditOutcome = strawberry.field(description="OK, or the code of a refusal.")
    actor_name: str | None = strawberry.field(
        description="Name of the principal who acted; only for your own agency's principals."
    )
    object_type: str | None = strawberry.field(description="Type of the object concerned.")
    object_id: strawberry.ID | None = strawberry.field(
        description="Global id of the object concerned, if any (API tokens are not nodes)."
    )
    fields_read: list[AuditFieldRead] = strawberry.field(
        description="For field.decrypt events: the objects and field names decrypted."
    )
    details: list[AuditDetail] = strawberry.field(
        description="What else the event records, where it carries no protected value."
    )
    _actor_agency_id: strawberry.Private[UUID | None]
    _id: strawberry.Private[UUID]

    @strawberry.field(description="The agency of the principal who acted; null for operators.")
    async def actor_agency(self, info: Info) -> Agency | None:
        if self._actor_agency_id is None:
            return None
        return await agency_of(info, self._actor_agency_id)

    @strawberry.field(
        description="Where the event sits in the log, with its proof to the newest signed tree "
        "head; null until the sequencer has integrated it (within seconds)."
    )
    async def inclusion(self, info: Info) -> AuditInclusionProof | None:
        proof = await info.context.loaders.audit_inclusion.load(self._id)
        return AuditInclusionProof.of(proof) if proof else None

    @classmethod
    def of(cls, view: audit_reads.AuditEventView) -> AuditEvent:
        """Render an event view."""
        return cls(
            id=strawberry.ID(to_global_id("AuditEvent", view.id)),
            sequence=view.seq,
            at=view.occurred_at,
            action=AuditAction(view.action),
            outcome=AuditOutcome(view.outcome),
            actor_name=view.actor_name,
            object_type=view.object_type,
            object_id=(
                strawberry.ID(to_global_id(view.object_type, view.object_id))
                if view.object_type and view.object_id
                else None
            ),
            fields_read=[
                AuditFieldRead(
                    object_type=read.object_type,
                    object_id=strawberry.ID(to_global_id(read.object_type, read.object_id)),
                    fields=list(read.fields),
                )
                for read in view.reads
            ],
            details=[AuditDetail(key=key, value=value) for key, value in view.details],
            _actor_agency_id=view.actor_agency_id,
            _id=view.id,
        )
