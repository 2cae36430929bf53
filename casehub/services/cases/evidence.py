"""Use-cases on evidence and its chain of custody."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from casehub.crypto import DataKey
from casehub.domain import validation as check
from casehub.domain.bounds import check_room
from casehub.domain.cases.policy import Action
from casehub.domain.enums import CustodyAction, EvidenceKind, HandlingCode, SourceReliability
from casehub.domain.errors import ValidationFailed
from casehub.domain.ids import new_id
from casehub.persistence.tables import CaseRow, CustodyEventRow, EvidenceRow
from casehub.services import caps
from casehub.services.audit import trail as audit
from casehub.services.cases.access import authorize, seen, sight, visible_cases
from casehub.services.cases.attached import attached_reads, read_through
from casehub.services.cases.cases import (
    SHREDDED_MESSAGE,
    readable_keys,
    refuse_if_shredded,
)
from casehub.services.keys import data_keys as keys
from casehub.services.protected import EVIDENCE_CONTENT, EVIDENCE_DESCRIPTION
from casehub.services.runtime import CaseGrant, Scope
from casehub.services.views import EvidenceView

DESCRIPTION_MAX = 20_000


CLOCK_SKEW = timedelta(minutes=5)


NO_EVIDENCE = "No such evidence."


def evidence_view(row: EvidenceRow, grant: CaseGrant, key: DataKey | None) -> EvidenceView:
    """Render an evidence row for a viewer."""
    owner = grant.owner_agency_id
    return EvidenceView(
        id=row.id,
        case_id=row.case_id,
        kind=EvidenceKind(row.kind),
        title=row.title,
        description=EVIDENCE_DESCRIPTION.sealed(row.description, key, row.id, owner),
        content=EVIDENCE_CONTENT.sealed(row.content, key, row.id, owner),
        sha256=row.sha256,
        size_bytes=row.size_bytes,
        media_type=row.media_type,
        collected_at=row.collected_at,
        source_reliability=SourceReliability(row.source_reliability)
        if row.source_reliability
        else None,
        information_accuracy=int(row.information_accuracy) if row.information_accuracy else None,
        handling_code=HandlingCode(row.handling_code),
        created_at=row.created_at,
        viewer_access=grant.access,
    )


def not_future(scope: Scope, value: datetime | None, field: str) -> datetime | None:
    value = check.utc(value, field=[field])
    if value is not None and value > scope.now + CLOCK_SKEW:
        raise ValidationFailed("Must not be in the future.", [field])
    return value


def _digest(
    scope: Scope,
    kind: EvidenceKind,
    content: bytes | None,
    sha256: str | None,
    size: int | None,
    content_field: str,
) -> tuple[str, int]:
    """The digest and size to store, checked against what the caller declared."""
    if content is None:
        if sha256 is None:
            raise ValidationFailed(
                "Give the content, or the SHA-256 of an item kept elsewhere.", ["sha256"]
            )
        if size is not None and size < 0:
            raise ValidationFailed("Must not be negative.", ["sizeBytes"])
        return check.sha256_hex(sha256, field=["sha256"]), size or 0
    if kind is EvidenceKind.HASH_ONLY:
        raise ValidationFailed(
            "HASH_ONLY evidence keeps digests only: send no content.", [content_field]
        )
    limit = scope.runtime.settings.max_evidence_bytes
    if len(content) > limit:
        raise ValidationFailed(
            f"Content is larger than the limit of {limit} bytes.", [content_field]
        )
    digest = hashlib.sha256(content).hexdigest()
    if sha256 is not None and sha256 != digest:
        raise ValidationFailed("Does not match the SHA-256 of the content sent.", ["sha256"])
    if size is not None and size != len(content):
        raise ValidationFailed("Does not match the size of the content sent.", ["sizeBytes"])
    return digest, len(content)


async def add_evidence(
    scope: Scope,
    *,
    case_id: UUID,
    kind: EvidenceKind,
    title: str,
    description: str | None = None,
    content: bytes | None = None,
    sha256: str | None = None,
    size_bytes: int | None = None,
    media_type: str | None = None,
    collected_at: datetime | None = None,
    source_reliability: SourceReliability | None = None,
    information_accuracy: int | None = None,
    handling_code: HandlingCode = HandlingCode.H0,
    content_field: str = "contentBase64",
) -> EvidenceView:
    """Register an evidence item; the server computes the digest and opens its custody log.

    `content_field` names the input the content came in (base64 or upload) in errors.
    """
    async with audit.mutation(scope, "evidence.add") as entry:
        # Items of one case are counted and added one writer at a time: the cap holds.
        await scope.store.lock_case(case_id, sight(scope))
        case, grant = await authorize(scope, case_id, Action.ADD_EVIDENCE)
        refuse_if_shredded(case, "caseId")
        check_room(
            await scope.store.count_evidence(case_id),
            maximum=caps.evidence_per_case(scope.runtime.settings),
            holder="A case",
            items="evidence items",
            field=["caseId"],
        )
        principal = scope.caller()
        owner = case.owner_agency_id
        check.text(title, field=["title"], max_length=200)
        check.optional_text(
            description, field=["description"], max_length=DESCRIPTION_MAX, multiline=True
        )
        if media_type is not None:
            check.media_type(media_type, field=["mediaType"])
        if information_accuracy is not None:
            check.information_accuracy(information_accuracy, field=["informationAccuracy"])
        collected_at = not_future(scope, collected_at, "collectedAt")
        digest, size = _digest(scope, kind, content, sha256, size_bytes, content_field)
        key = (await keys.viewer_keys(scope, [case_id]))[case_id]
        if key is None:  # the owner holds a wrap until the case is shredded
            raise ValidationFailed(SHREDDED_MESSAGE, ["caseId"])
        evidence_id = new_id()
        now = scope.now
        row = EvidenceRow(
            id=evidence_id,
            case_id=case_id,
            kind=kind.value,
            title=title,
            description=None
            if description is None
            else EVIDENCE_DESCRIPTION.seal(key, evidence_id, owner, description),
            content=None
            if content is None
            else EVIDENCE_CONTENT.seal(key, evidence_id, owner, content),
            sha256=digest,
            size_bytes=size,
            media_type=media_type,
            collected_at=collected_at,
            source_reliability=source_reliability.value if source_reliability else None,
            information_accuracy=str(information_accuracy) if information_accuracy else None,
            handling_code=handling_code.value,
            created_by=principal.id,
            created_at=now,
        )
        scope.store.add(row)
        await scope.store.flush()
        # Custody starts when the item enters casehub: who registered it, and when.
        scope.store.add(
            CustodyEventRow(
                id=new_id(),
                evidence_id=evidence_id,
                case_id=case_id,
                action=CustodyAction.RECEIVED.value,
                actor_principal_id=principal.id,
                actor_agency_id=principal.agency_id,
                note=None,
                occurred_at=now,
                recorded_at=now,
            )
        )
        await scope.store.flush()
        entry.object_type, entry.object_id, entry.object_agency_id = "Evidence", evidence_id, owner
        entry.details = {
            "caseId": str(case_id),
            "sizeBytes": size,
            "hasContent": content is not None,
        }
    return evidence_view(row, grant, key)


async def evidence_of_cases(
    scope: Scope, case_ids: Sequence[UUID]
) -> dict[UUID, list[EvidenceView]]:
    """Evidence of cases the caller has been shown in this request, grouped by case."""
    grants = {case_id: scope.grants.get(case_id) for case_id in set(case_ids)}
    case_keys = await readable_keys(scope, grants)
    grouped: dict[UUID, list[EvidenceView]] = {case_id: [] for case_id in case_ids}
    visible = [case_id for case_id, grant in grants.items() if grant]
    rows = await scope.store.evidence_by_case(
        visible, caps.evidence_per_case(scope.runtime.settings)
    )
    reads = await attached_reads(scope, rows, await _metadata_cases(scope, grants))
    for row in rows:
        grant = grants[row.case_id]
        assert grant is not None
        view = evidence_view(row, grant, case_keys[row.case_id])
        grouped[row.case_id].append(read_through(view, reads[row.id]) if row.id in reads else view)
    return grouped


async def _metadata_cases(
    scope: Scope, grants: dict[UUID, CaseGrant | None]
) -> dict[UUID, tuple[CaseRow, CaseGrant]]:
    """The cases the caller reads as METADATA, with their rows: where attachments may count."""
    wanted = [case_id for case_id, grant in grants.items() if grant and not grant.access.decrypts]
    if not wanted:
        return {}
    found = {}
    for row in await scope.store.cases_by_ids(wanted):
        grant = grants[row.id]
        assert grant is not None
        found[row.id] = (row, grant)
    return found


async def evidence_by_ids(scope: Scope, ids: Sequence[UUID]) -> dict[UUID, EvidenceView]:
    """The visible evidence among these ids."""
    rows = await seen(scope, EvidenceRow, ids)
    cases = await visible_cases(scope, {row.case_id for row in rows})
    grants = {case_id: grant for case_id, (_row, grant) in cases.items()}
    case_keys = await readable_keys(scope, dict(grants))
    # The requested agency of an open request reads the evidence attached to it in full.
    reads = await attached_reads(scope, rows, cases)
    views = {
        row.id: evidence_view(row, grants[row.case_id], case_keys[row.case_id])
        for row in rows
        if row.case_id in grants
    }
    return {
        item_id: read_through(view, reads[item_id]) if item_id in reads else view
        for item_id, view in views.items()
    }
