"""Evidence attached to a request, read by the requested agency through the item itself.

The access policy gives the requested agency METADATA on the linked case "plus FULL on the evidence
attached to that request". The agency holds no key of the case, only the request's: it reads the
item's protected fields from the copy re-sealed under the request key when the request was drafted
(casehub.services.requests.evidence). The policy (casehub.domain.cases.policy.evidence_access)
decides whether it may; this module finds the copies and swaps them into the item's view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from casehub.crypto import DataKey
from casehub.domain.cases.policy import Attachment, evidence_access
from casehub.domain.enums import Access, Tlp
from casehub.domain.requests.transitions import RequestStatus
from casehub.persistence.tables import (
    CaseRow,
    CooperationRequestRow,
    EvidenceRow,
    RequestEvidenceRow,
)
from casehub.services.keys import data_keys as keys
from casehub.services.protected import (
    REQUEST_EVIDENCE_CONTENT,
    REQUEST_EVIDENCE_DESCRIPTION,
    owner_of,
)
from casehub.services.runtime import CaseGrant, Scope
from casehub.services.views import EvidenceView


@dataclass(frozen=True, slots=True)
class AttachedRead:
    """The copy through which the caller reads one evidence item in full, and its key."""

    copy: RequestEvidenceRow
    requester_agency_id: UUID
    key: DataKey | None


async def attached_reads(
    scope: Scope,
    rows: Sequence[EvidenceRow],
    cases: dict[UUID, tuple[CaseRow, CaseGrant]],
) -> dict[UUID, AttachedRead]:
    """For the items the policy raises to FULL through a request attachment, the copy to read.

    `cases` holds the caller's grant on each item's case; only items whose case it reads as
    METADATA are looked up (an owner or a FULL recipient already reads the original).
    """
    viewer = scope.caller().agency_id
    wanted = [
        row for row in rows if (found := cases.get(row.case_id)) and not found[1].access.decrypts
    ]
    if not wanted:
        return {}
    copies = await scope.store.attachments_to(
        {row.case_id for row in wanted}, {row.id for row in wanted}, viewer
    )
    by_item: dict[UUID, list[tuple[RequestEvidenceRow, CooperationRequestRow]]] = {}
    for copy, request in copies:
        by_item.setdefault(copy.evidence_id, []).append((copy, request))
    chosen: dict[UUID, tuple[RequestEvidenceRow, UUID]] = {}
    for row in wanted:
        case, grant = cases[row.case_id]
        for copy, request in by_item.get(row.id, ()):
            attachment = Attachment(request.requested_agency_id, RequestStatus(request.status))
            access = evidence_access(
                viewer_agency_id=viewer,
                case_access=grant.access,
                tlp=Tlp(case.tlp),
                attachments=[attachment],
            )
            if access is Access.FULL:
                chosen[row.id] = (copy, owner_of(request))
                break
    request_keys = await keys.viewer_keys(scope, {copy.request_id for copy, _ in chosen.values()})
    return {
        item_id: AttachedRead(copy, requester, request_keys[copy.request_id])
        for item_id, (copy, requester) in chosen.items()
    }


def read_through(view: EvidenceView, read: AttachedRead) -> EvidenceView:
    """The item's view with its protected fields read from the attached copy, at FULL."""
    copy = read.copy
    owner = read.requester_agency_id
    view.description = REQUEST_EVIDENCE_DESCRIPTION.sealed(
        copy.description, read.key, copy.id, owner
    )
    view.content = REQUEST_EVIDENCE_CONTENT.sealed(copy.content, read.key, copy.id, owner)
    view.viewer_access = Access.FULL
    return view
