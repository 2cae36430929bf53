"""Use-cases on subjects and their identifiers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

from casehub.crypto import DataKey
from casehub.domain import validation as check
from casehub.domain.bounds import check_room
from casehub.domain.cases.policy import Action
from casehub.domain.enums import IdentifierKind, SubjectKind
from casehub.domain.errors import NotFound, ValidationFailed
from casehub.domain.identifiers import IdentifierInput, checked_identifier
from casehub.domain.ids import new_id
from casehub.persistence.tables import IdentifierRow, SubjectRow
from casehub.services import caps
from casehub.services.audit import trail as audit
from casehub.services.cases import identifier_index
from casehub.services.cases.access import authorize, seen, sight
from casehub.services.cases.cases import (
    SHREDDED_MESSAGE,
    readable_keys,
    refuse_if_shredded,
)
from casehub.services.keys import data_keys as keys
from casehub.services.protected import IDENTIFIER_VALUE, SUBJECT_DISPLAY_NAME
from casehub.services.runtime import Scope
from casehub.services.views import IdentifierView, SubjectView

NAME_MAX = 500
IDENTIFIERS_MAX = caps.IDENTIFIERS_PER_SUBJECT
NO_SUBJECT = "No such subject."


def subject_view(row: SubjectRow, owner_id: UUID, key: DataKey | None) -> SubjectView:
    """Render a subject row."""
    return SubjectView(
        id=row.id,
        case_id=row.case_id,
        kind=SubjectKind(row.kind),
        display_name=SUBJECT_DISPLAY_NAME.sealed(row.display_name, key, row.id, owner_id),
        matchable=row.matchable,
        created_at=row.created_at,
    )


def identifier_view(row: IdentifierRow, owner_id: UUID, key: DataKey | None) -> IdentifierView:
    """Render an identifier row."""
    return IdentifierView(
        id=row.id,
        subject_id=row.subject_id,
        case_id=row.case_id,
        kind=IdentifierKind(row.kind),
        value=IDENTIFIER_VALUE.sealed(row.value, key, row.id, owner_id),
        platform=row.platform,
        chain=row.chain,
    )


async def add_subject(
    scope: Scope,
    *,
    case_id: UUID,
    kind: SubjectKind,
    display_name: str,
    identifiers: Sequence[IdentifierInput],
    matchable: bool | None = None,
) -> SubjectView:
    """Add a subject with its identifiers to a case the caller's agency owns.

    `matchable` is the owner's say on other agencies' hit checks (None: by the case's TLP).
    """
    async with audit.mutation(scope, "subject.add") as entry:
        # Subjects of one case are counted and added one writer at a time: the cap holds.
        await scope.store.lock_case(case_id, sight(scope))
        case, _grant = await authorize(scope, case_id, Action.ADD_SUBJECT)
        refuse_if_shredded(case, "caseId")
        check_room(
            await scope.store.count_subjects(case_id),
            maximum=caps.subjects_per_case(scope.runtime.settings),
            holder="A case",
            items="subjects",
            field=["caseId"],
        )
        owner = case.owner_agency_id
        check.text(display_name, field=["displayName"], max_length=NAME_MAX)
        if len(identifiers) > IDENTIFIERS_MAX:
            raise ValidationFailed(f"At most {IDENTIFIERS_MAX} identifiers.", ["identifiers"])
        region = (await identifier_index.jurisdictions(scope, [owner])).get(owner)
        checked = [
            checked_identifier(item, field=["identifiers", str(index)], default_region=region)
            for index, item in enumerate(identifiers)
        ]
        key = (await keys.viewer_keys(scope, [case_id]))[case_id]
        if key is None:  # the owner holds a wrap until the case is shredded
            raise ValidationFailed(SHREDDED_MESSAGE, ["caseId"])
        now = scope.now
        subject_id = new_id()
        subject = SubjectRow(
            id=subject_id,
            case_id=case_id,
            kind=kind.value,
            display_name=SUBJECT_DISPLAY_NAME.seal(key, subject_id, owner, display_name),
            matchable=matchable,
            created_at=now,
        )
        rows, index = [], []
        for item in checked:
            identifier_id = new_id()
            row = IdentifierRow(
                id=identifier_id,
                subject_id=subject_id,
                case_id=case_id,
                kind=item.kind.value,
                value=IDENTIFIER_VALUE.seal(key, identifier_id, owner, item.value),
                platform=item.platform,
                chain=item.chain,
                created_at=now,
            )
            rows.append(row)
            index.append(identifier_index.index_row(scope, row, item, owner, region))
        scope.store.add(subject)
        await scope.store.flush()
        scope.store.add(*rows)
        await scope.store.flush()
        scope.store.add(*index)
        await scope.store.flush()
        entry.object_type, entry.object_id, entry.object_agency_id = "Subject", subject_id, owner
        entry.details = {"caseId": str(case_id), "identifiers": len(rows)}
    return subject_view(subject, owner, key)


async def mark_subject(scope: Scope, *, subject_id: UUID, matchable: bool | None) -> SubjectView:
    """Set whether a subject of the caller's agency answers other agencies' hit checks
    (None: by the case's TLP); the same right as adding subjects."""
    async with audit.mutation(scope, "subject.mark") as entry:
        # A subject of a case the agency cannot see is never loaded: missing, as a random id.
        subject = next(iter(await seen(scope, SubjectRow, [subject_id])), None)
        if subject is None:
            raise NotFound(NO_SUBJECT, ["subjectId"])
        case, grant = await authorize(
            scope, subject.case_id, Action.ADD_SUBJECT, "subjectId", NO_SUBJECT
        )
        owner = case.owner_agency_id
        entry.object_type, entry.object_id, entry.object_agency_id = "Subject", subject_id, owner
        subject.matchable = matchable
        await scope.store.flush()
        entry.details = {"matchable": matchable}
    key = (await readable_keys(scope, {case.id: grant}))[case.id]
    return subject_view(subject, owner, key)


async def _case_keys(
    scope: Scope, case_ids: Iterable[UUID]
) -> dict[UUID, tuple[UUID, DataKey | None]]:
    """For cases already seen by the caller in this request: (owner, readable key or None)."""
    grants = {case_id: scope.grants.get(case_id) for case_id in set(case_ids)}
    found = await readable_keys(scope, grants)
    return {
        case_id: (grant.owner_agency_id, found[case_id])
        for case_id, grant in grants.items()
        if grant is not None
    }


async def subjects_of_cases(
    scope: Scope, case_ids: Sequence[UUID]
) -> dict[UUID, list[SubjectView]]:
    """Subjects of cases the caller has been shown in this request, grouped by case."""
    visible = await _case_keys(scope, case_ids)
    grouped: dict[UUID, list[SubjectView]] = {case_id: [] for case_id in case_ids}
    per_case = caps.subjects_per_case(scope.runtime.settings)
    for row in await scope.store.subjects_by_case(visible, per_case):
        owner, key = visible[row.case_id]
        grouped[row.case_id].append(subject_view(row, owner, key))
    return grouped


async def identifiers_of_subjects(
    scope: Scope, subjects: Sequence[tuple[UUID, UUID]]
) -> dict[UUID, list[IdentifierView]]:
    """Identifiers of (subject id, case id) pairs the caller has been shown, by subject."""
    visible = await _case_keys(scope, {case_id for _subject_id, case_id in subjects})
    wanted = [subject_id for subject_id, case_id in subjects if case_id in visible]
    grouped: dict[UUID, list[IdentifierView]] = {subject_id: [] for subject_id, _ in subjects}
    for row in await scope.store.identifiers_by_subject(wanted, caps.IDENTIFIERS_PER_SUBJECT):
        owner, key = visible[row.case_id]
        grouped[row.subject_id].append(identifier_view(row, owner, key))
    return grouped
