"""Evidence in requests: which items a party may attach or supply, and their re-sealed copies."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from casehub.domain.cases.sharing import Disclosure, check_disclosure
from casehub.domain.enums import Access, Tlp
from casehub.domain.errors import ValidationFailed
from casehub.domain.ids import new_id
from casehub.domain.requests.content import EVIDENCE_MAX
from casehub.persistence.tables import (
    CooperationRequestRow,
    EvidenceRow,
    RequestEvidenceRow,
)
from casehub.services.cases.access import seen, visible_cases
from casehub.services.keys import data_keys as keys
from casehub.services.protected import (
    EVIDENCE_CONTENT,
    EVIDENCE_DESCRIPTION,
    REQUEST_EVIDENCE_CONTENT,
    REQUEST_EVIDENCE_DESCRIPTION,
    owner_of,
)
from casehub.services.requests.sealing import request_key
from casehub.services.runtime import Scope

# Each protected field of an item and the field of its copy it is re-sealed into.
COPIED = (
    (EVIDENCE_DESCRIPTION, REQUEST_EVIDENCE_DESCRIPTION),
    (EVIDENCE_CONTENT, REQUEST_EVIDENCE_CONTENT),
)


async def own_evidence(
    scope: Scope, evidence_ids: Sequence[UUID], case_id: UUID | None, field: str
) -> list[EvidenceRow]:
    """Evidence the caller's agency owns (and, when given, of that case), in the order given."""
    if len(evidence_ids) > EVIDENCE_MAX:
        raise ValidationFailed(f"At most {EVIDENCE_MAX} evidence items.", [field])
    if len(set(evidence_ids)) != len(evidence_ids):
        raise ValidationFailed("An evidence item is listed twice.", [field])
    # Evidence of cases the agency cannot see is never read: refused as a missing id is.
    rows = {row.id: row for row in await seen(scope, EvidenceRow, evidence_ids)}
    cases = await visible_cases(scope, {row.case_id for row in rows.values()})
    chosen = []
    for index, evidence_id in enumerate(evidence_ids):
        row = rows.get(evidence_id)
        found = cases.get(row.case_id) if row else None
        if row is None or found is None or found[1].access is not Access.OWNER:
            raise ValidationFailed("Not evidence your agency holds.", [field, str(index)])
        if case_id is not None and row.case_id != case_id:
            raise ValidationFailed("Not evidence of the linked case.", [field, str(index)])
        # Attached or supplied, the item goes to the other party in full.
        check_disclosure(
            tlp=Tlp(found[0].tlp), way=Disclosure.REQUEST_EVIDENCE, field=[field, str(index)]
        )
        chosen.append(row)
    return chosen


async def copy_evidence(
    scope: Scope, request: CooperationRequestRow, rows: Sequence[EvidenceRow], role: str
) -> None:
    """Re-seal the items under the request's key, so the other party never needs a case key."""
    request_data_key = await request_key(scope, request.id)
    case_keys = await keys.viewer_keys(scope, {row.case_id for row in rows})
    now = scope.now
    for row in rows:
        case_key = case_keys[row.case_id]
        assert case_key is not None, "the owner always holds a wrap"
        copy_id = new_id()
        copied: dict[str, bytes | None] = {}
        for original, copy in COPIED:
            blob = getattr(row, original.column)
            if blob is None:
                copied[copy.column] = None
                continue
            # Only the owner copies its evidence, so the caller's agency is the case owner.
            owner = scope.caller().agency_id
            plain = original.open(case_key, row.id, owner, blob)
            copied[copy.column] = copy.seal(request_data_key, copy_id, owner_of(request), plain)
        scope.store.add(
            RequestEvidenceRow(
                id=copy_id,
                request_id=request.id,
                evidence_id=row.id,
                role=role,
                description=copied["description"],
                content=copied["content"],
                added_at=now,
            )
        )
