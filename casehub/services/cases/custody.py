"""Use-cases on an evidence item's chain of custody: entries appended, never edited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from casehub.crypto import DataKey
from casehub.domain import validation as check
from casehub.domain.bounds import check_room
from casehub.domain.cases.policy import Action
from casehub.domain.enums import CustodyAction
from casehub.domain.errors import NotFound, ValidationFailed
from casehub.domain.ids import new_id
from casehub.persistence.tables import CustodyEventRow, EvidenceRow
from casehub.services import caps
from casehub.services.audit import trail as audit
from casehub.services.cases.access import authorize, seen, sight
from casehub.services.cases.cases import readable_keys, refuse_if_shredded
from casehub.services.cases.evidence import NO_EVIDENCE, not_future
from casehub.services.keys import data_keys as keys
from casehub.services.protected import CUSTODY_NOTE
from casehub.services.runtime import Scope
from casehub.services.views import CustodyEventView

NOTE_MAX = 2_000


def custody_view(row: CustodyEventRow, owner: UUID, key: DataKey | None) -> CustodyEventView:
    """Render a custody entry."""
    return CustodyEventView(
        id=row.id,
        evidence_id=row.evidence_id,
        action=CustodyAction(row.action),
        actor_agency_id=row.actor_agency_id,
        note=CUSTODY_NOTE.sealed(row.note, key, row.id, owner),
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
    )


async def record_custody_event(
    scope: Scope,
    *,
    evidence_id: UUID,
    action: CustodyAction,
    occurred_at: datetime | None = None,
    note: str | None = None,
) -> CustodyEventView:
    """Append one entry to an evidence item's chain of custody (never edited afterwards)."""
    async with audit.mutation(scope, "custody.record") as entry:
        principal = scope.caller()
        # Evidence of a case the agency cannot see is never loaded: missing, as a random id.
        found = await seen(scope, EvidenceRow, [evidence_id])
        if not found:
            raise NotFound(NO_EVIDENCE, ["evidenceId"])
        item = found[0]
        case, _grant = await authorize(
            scope, item.case_id, Action.RECORD_CUSTODY, "evidenceId", NO_EVIDENCE
        )
        owner = case.owner_agency_id
        # Entries of one item are counted and added under its case's lock: the cap holds.
        await scope.store.lock_case(item.case_id, sight(scope))
        check_room(
            await scope.store.count_custody(evidence_id),
            maximum=caps.custody_per_evidence(scope.runtime.settings),
            holder="An evidence item's chain of custody",
            items="entries",
            field=["evidenceId"],
        )
        check.optional_text(note, field=["note"], max_length=NOTE_MAX, multiline=True)
        now = scope.now
        when = not_future(scope, occurred_at, "occurredAt") or now
        if note is not None:
            refuse_if_shredded(case, "note")
        key = (await keys.viewer_keys(scope, [item.case_id]))[item.case_id]
        if key is None and note is not None:
            raise ValidationFailed("Your agency cannot encrypt notes on this case.", ["note"])
        custody_id = new_id()
        row = CustodyEventRow(
            id=custody_id,
            evidence_id=evidence_id,
            case_id=item.case_id,
            action=action.value,
            actor_principal_id=principal.id,
            actor_agency_id=principal.agency_id,
            note=None
            if note is None or key is None
            else CUSTODY_NOTE.seal(key, custody_id, owner, note),
            occurred_at=when,
            recorded_at=now,
        )
        scope.store.add(row)
        await scope.store.flush()
        entry.object_type, entry.object_id, entry.object_agency_id = (
            "CustodyEvent",
            custody_id,
            owner,
        )
        entry.details = {"evidenceId": str(evidence_id), "action": action.value}
    return custody_view(row, owner, key)


async def custody_of_evidence(
    scope: Scope, items: Sequence[tuple[UUID, UUID]]
) -> dict[UUID, list[CustodyEventView]]:
    """Custody entries of (evidence id, case id) pairs the caller has been shown, by item."""
    grants = {case_id: scope.grants.get(case_id) for _evidence_id, case_id in items}
    case_keys = await readable_keys(scope, grants)
    wanted = [evidence_id for evidence_id, case_id in items if grants[case_id]]
    grouped: dict[UUID, list[CustodyEventView]] = {evidence_id: [] for evidence_id, _ in items}
    per_item = caps.custody_per_evidence(scope.runtime.settings)
    for row in await scope.store.custody_by_evidence(wanted, per_item):
        grant = grants[row.case_id]
        assert grant is not None
        grouped[row.evidence_id].append(
            custody_view(row, grant.owner_agency_id, case_keys[row.case_id])
        )
    return grouped
