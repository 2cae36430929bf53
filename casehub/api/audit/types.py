"""GraphQL types of the audit trail as an agency administrator reads it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from casehub.api.agencies.types import Agency, agency_of
from casehub.api.context import Info
from casehub.api.ids import to_global_id
from casehub.services.audit import reads as audit_reads


@strawberry.input(description="Narrowing of the audit events listed.")
class AuditEventFilter:
    action: str | None = strawberry.field(
        default=None, description="Only this action, e.g. field.decrypt or case.share."
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
        "One link of the tamper-evident audit chain: who did what, to which object, when, "
        "with what outcome. Never holds the values of protected fields."
    )
)
class AuditEvent:
    id: strawberry.ID = strawberry.field(description="Opaque id of the event.")
    sequence: int = strawberry.field(description="Position of the event in the chain.")
    at: datetime = strawberry.field(description="When it happened (UTC).")
    action: str = strawberry.field(description="What was done, e.g. case.update.")
    outcome: str = strawberry.field(description="OK, or the error code of a refusal.")
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

    @strawberry.field(description="The agency of the principal who acted; null for operators.")
    async def actor_agency(self, info: Info) -> Agency | None:
        if self._actor_agency_id is None:
            return None
        return await agency_of(info, self._actor_agency_id)

    @classmethod
    def of(cls, view: audit_reads.AuditEventView) -> AuditEvent:
        """Render an event view."""
        return cls(
            id=strawberry.ID(to_global_id("AuditEvent", view.id)),
            sequence=view.seq,
            at=view.occurred_at,
            action=view.action,
            outcome=view.outcome,
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
        )
