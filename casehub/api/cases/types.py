"""GraphQL object types. Clear fields are plain attributes; protected ones open on request."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry

from casehub.api import enums as _registered  # noqa: F401  (registers the GraphQL enums)
from casehub.api.agencies.types import Agency, agency_of
from casehub.api.context import Info
from casehub.api.ids import to_global_id
from casehub.api.relay import Node
from casehub.api.revealed import revealed
from casehub.domain.enums import (
    Access,
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
from casehub.services import views
from casehub.services.views import Sealed


@strawberry.type(description="One identifier of a subject. `value` is encrypted at rest.")
class Identifier(Node):
    kind: IdentifierKind = strawberry.field(description="What kind of identifier it is.")
    platform: str | None = strawberry.field(description="Platform of a messenger handle.")
    chain: str | None = strawberry.field(description="Chain of a crypto wallet.")
    _value: strawberry.Private[Sealed]

    value = revealed("_value", "The identifier (decrypted); null without FULL access.")

    @classmethod
    def of(cls, view: views.IdentifierView) -> Identifier:
        """Render an identifier view."""
        return cls(
            id=strawberry.ID(to_global_id("Identifier", view.id)),
            kind=view.kind,
            platform=view.platform,
            chain=view.chain,
            _value=view.value,
        )


@strawberry.type(description="A person, organisation or account in a case.")
class Subject(Node):
    kind: SubjectKind = strawberry.field(description="What the subject is.")
    created_at: datetime = strawberry.field(description="When it was added (UTC).")
    matchable: bool | None = strawberry.field(
        description=(
            "The owner's say on other agencies' hit checks: true, false, or null to follow "
            "the case's TLP (every subject is matchable except in RED cases)."
        )
    )
    _name: strawberry.Private[Sealed]
    _subject_id: strawberry.Private[UUID]
    _case_id: strawberry.Private[UUID]

    display_name = revealed("_name", "Name as known (decrypted); null without FULL access.")

    @strawberry.field(description="The subject's identifiers, oldest first.")
    async def identifiers(self, info: Info) -> list[Identifier]:
        found = await info.context.loaders.identifiers.load((self._subject_id, self._case_id))
        return [Identifier.of(view) for view in found]

    @strawberry.field(description="The case the subject belongs to.")
    async def case(
        self, info: Info
    ) -> Annotated[Case, strawberry.lazy("casehub.api.cases.types")] | None:
        view = await info.context.loaders.case.load(self._case_id)
        return None if view is None else Case.of(view)

    @classmethod
    def of(cls, view: views.SubjectView) -> Subject:
        """Render a subject view."""
        return cls(
            id=strawberry.ID(to_global_id("Subject", view.id)),
            kind=view.kind,
            created_at=view.created_at,
            matchable=view.matchable,
            _name=view.display_name,
            _subject_id=view.id,
            _case_id=view.case_id,
        )


@strawberry.type(description="One append-only entry of an evidence item's chain of custody.")
class CustodyEvent(Node):
    action: CustodyAction = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(description="When it happened (UTC).")
    recorded_at: datetime = strawberry.field(description="When casehub recorded it (UTC).")
    _note: strawberry.Private[Sealed]
    _actor_agency_id: strawberry.Private[UUID]

    @strawberry.field(description="The agency whose principal recorded it.")
    async def actor_agency(self, info: Info) -> Agency | None:
        return await agency_of(info, self._actor_agency_id)

    note = revealed("_note", "Free-text note (decrypted); null without FULL access.")

    @classmethod
    def of(cls, view: views.CustodyEventView) -> CustodyEvent:
        """Render a custody view."""
        return cls(
            id=strawberry.ID(to_global_id("CustodyEvent", view.id)),
            action=view.action,
            occurred_at=view.occurred_at,
            recorded_at=view.recorded_at,
            _note=view.note,
            _actor_agency_id=view.actor_agency_id,
        )


@strawberry.type(description="An evidence item. Description and content are encrypted at rest.")
class Evidence(Node):
    kind: EvidenceKind = strawberry.field(description="Form of the item.")
    title: str = strawberry.field(description="Short clear-text title.")
    sha256: str = strawberry.field(description="SHA-256 of the content, computed by the server.")
    size_bytes: int = strawberry.field(description="Size of the content in bytes.")
    media_type: str | None = strawberry.field(description="Media type, e.g. application/pdf.")
    collected_at: datetime | None = strawberry.field(description="When it was collected (UTC).")
    source_reliability: SourceReliability | None = strawberry.field(
        description="Grading of the source (A, B, C, X)."
    )
    information_accuracy: int | None = strawberry.field(
        description="Grading of the information, 1 (confirmed) to 4 (cannot be judged)."
    )
    handling_code: HandlingCode = strawberry.field(description="Use conditions of this item.")
    created_at: datetime = strawberry.field(description="When it was registered (UTC).")
    viewer_access: Access = strawberry.field(description="What the viewer may see of it.")
    _description: strawberry.Private[Sealed]
    _content: strawberry.Private[Sealed]
    _evidence_id: strawberry.Private[UUID]
    _case_id: strawberry.Private[UUID]

    description = revealed("_description", "Description (decrypted); null without FULL access.")

    @strawberry.field(
        description="Content as base64 (decrypted); null without FULL access or for HASH_ONLY."
    )
    def content_base64(self, info: Info) -> str | None:
        content = self._content.reveal_bytes(info.context.scope)
        return None if content is None else base64.b64encode(content).decode("ascii")

    @strawberry.field(description="The chain of custody, in the order recorded.")
    async def custody(self, info: Info) -> list[CustodyEvent]:
        found = await info.context.loaders.custody.load((self._evidence_id, self._case_id))
        return [CustodyEvent.of(view) for view in found]

    @strawberry.field(description="The case the item belongs to.")
    async def case(
        self, info: Info
    ) -> Annotated[Case, strawberry.lazy("casehub.api.cases.types")] | None:
        view = await info.context.loaders.case.load(self._case_id)
        return None if view is None else Case.of(view)

    @classmethod
    def of(cls, view: views.EvidenceView) -> Evidence:
        """Render an evidence view."""
        return cls(
            id=strawberry.ID(to_global_id("Evidence", view.id)),
            kind=view.kind,
            title=view.title,
            sha256=view.sha256,
            size_bytes=view.size_bytes,
            media_type=view.media_type,
            collected_at=view.collected_at,
            source_reliability=view.source_reliability,
            information_accuracy=view.information_accuracy,
            handling_code=view.handling_code,
            created_at=view.created_at,
            viewer_access=view.viewer_access,
            _description=view.description,
            _content=view.content,
            _evidence_id=view.id,
            _case_id=view.case_id,
        )


@strawberry.type(description="A grant of one case to another agency; listed to the owner only.")
class CaseShare(Node):
    scope: ShareScope = strawberry.field(description="METADATA or FULL.")
    expires_at: datetime | None = strawberry.field(description="End of the share (UTC), if any.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked, if it was.")
    created_at: datetime = strawberry.field(description="When it was granted (UTC).")
    active: bool = strawberry.field(description="Whether the share is in force now.")
    _agency_id: strawberry.Private[UUID]
    _case_id: strawberry.Private[UUID]

    @strawberry.field(description="The agency the case is shared with.")
    async def agency(self, info: Info) -> Agency | None:
        return await agency_of(info, self._agency_id)

    @strawberry.field(description="The shared case.")
    async def case(
        self, info: Info
    ) -> Annotated[Case, strawberry.lazy("casehub.api.cases.types")] | None:
        view = await info.context.loaders.case.load(self._case_id)
        return None if view is None else Case.of(view)

    @classmethod
    def of(cls, view: views.ShareView) -> CaseShare:
        """Render a share view."""
        return cls(
            id=strawberry.ID(to_global_id("CaseShare", view.id)),
            scope=view.scope,
            expires_at=view.expires_at,
            revoked_at=view.revoked_at,
            created_at=view.created_at,
            active=view.active,
            _agency_id=view.agency_id,
            _case_id=view.case_id,
        )


@strawberry.type(description="A case, owned by one agency. The summary is encrypted at rest.")
class Case(Node):
    reference: str = strawberry.field(description="The owner's own case number.")
    title: str = strawberry.field(description="Operational name (clear text).")
    category: CaseCategory = strawberry.field(description="Crime area.")
    status: CaseStatus = strawberry.field(description="Lifecycle state.")
    tlp: Tlp = strawberry.field(description="TLP 2.0 marking.")
    handling_code: HandlingCode = strawberry.field(description="Use conditions.")
    version: int = strawberry.field(
        description=("Increases with every change to the case's fields; pass it to updateCase.")
    )
    created_at: datetime = strawberry.field(description="When it was opened (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    viewer_access: Access = strawberry.field(
        description="OWNER, FULL (encrypted fields readable) or METADATA (encrypted fields null)."
    )
    legal_hold: bool = strawberry.field(
        description="Whether a legal hold is in force; it refuses shredCase with LEGAL_HOLD."
    )
    shredded_at: datetime | None = strawberry.field(
        description=(
            "When the case was crypto-shredded (UTC): its data key is destroyed, its clear "
            "fields remain and every encrypted field of it reads as null for everyone."
        )
    )
    protected_fields_reason: ProtectedFieldsReason | None = strawberry.field(
        description=(
            "Why the encrypted fields of the case (and of its subjects and evidence) are null "
            "for the viewer; null when they are readable."
        )
    )
    _summary: strawberry.Private[Sealed]
    _case_id: strawberry.Private[UUID]
    _owner_id: strawberry.Private[UUID]

    summary = revealed(
        "_summary", "Summary (decrypted); null without FULL access or once the case is shredded."
    )

    @strawberry.field(description="The owning agency.")
    async def owner(self, info: Info) -> Agency | None:
        return await agency_of(info, self._owner_id)

    @strawberry.field(description="Subjects of the case, oldest first.")
    async def subjects(self, info: Info) -> list[Subject]:
        return [
            Subject.of(view) for view in await info.context.loaders.subjects.load(self._case_id)
        ]

    @strawberry.field(description="Evidence of the case, oldest first.")
    async def evidence(self, info: Info) -> list[Evidence]:
        return [
            Evidence.of(view) for view in await info.context.loaders.evidence.load(self._case_id)
        ]

    @strawberry.field(description="Shares of the case; empty unless the viewer's agency owns it.")
    async def shares(self, info: Info) -> list[CaseShare]:
        return [
            CaseShare.of(view) for view in await info.context.loaders.shares.load(self._case_id)
        ]

    @classmethod
    def of(cls, view: views.CaseView) -> Case:
        """Render a case view."""
        return cls(
            id=strawberry.ID(to_global_id("Case", view.id)),
            reference=view.reference,
            title=view.title,
            category=view.category,
            status=view.status,
            tlp=view.tlp,
            handling_code=view.handling_code,
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
            viewer_access=view.viewer_access,
            legal_hold=view.legal_hold,
            shredded_at=view.shredded_at,
            protected_fields_reason=view.protected_fields_reason,
            _summary=view.summary,
            _case_id=view.id,
            _owner_id=view.owner_agency_id,
        )
