"""Which cases the caller may see, at which level: the domain policy applied to stored shares."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

from casehub.domain.cases.policy import (
    LINK_ACCESS_STATES,
    Action,
    Decision,
    RequestLink,
    ShareGrant,
    case_access,
    decide,
)
from casehub.domain.cases.sharing import OWNER_ONLY
from casehub.domain.enums import ShareScope, Tlp
from casehub.domain.errors import Forbidden, NotFound
from casehub.domain.requests.transitions import RequestStatus
from casehub.persistence.base import Row
from casehub.persistence.cases.sight import Sight
from casehub.persistence.tables import CaseRow
from casehub.services.runtime import CaseGrant, Scope


async def grants_for(scope: Scope, cases: Sequence[CaseRow]) -> dict[UUID, CaseGrant | None]:
    """The caller's grant on each case (None: the case does not exist for it); one query."""
    agency_id = scope.caller().agency_id
    pending = [case for case in cases if case.id not in scope.grants]
    foreign = [case.id for case in pending if case.owner_agency_id != agency_id]
    links: dict[UUID, list[RequestLink]] = {}
    for case_id, status in await scope.store.request_links(foreign, agency_id):
        links.setdefault(case_id, []).append(RequestLink(agency_id, RequestStatus(status)))
    shares: dict[UUID, list[ShareGrant]] = {}
    for share in await scope.store.shares_for_agency(foreign, agency_id):
        shares.setdefault(share.case_id, []).append(
            ShareGrant(
                agency_id=share.agency_id,
                scope=ShareScope(share.scope),
                expires_at=share.expires_at,
                revoked_at=share.revoked_at,
            )
        )
    now = scope.now
    for case in pending:
        access = case_access(
            viewer_agency_id=agency_id,
            owner_agency_id=case.owner_agency_id,
            grants=shares.get(case.id, ()),
            now=now,
            tlp=Tlp(case.tlp),
            links=links.get(case.id, ()),
        )
        scope.grants[case.id] = None if access is None else CaseGrant(access, case.owner_agency_id)
    return {case.id: scope.grants[case.id] for case in cases}


# The policy's parameters of the SQL visibility rule (persistence.sight).
_LINK_STATUSES = tuple(sorted(status.value for status in LINK_ACCESS_STATES))
_OWNER_ONLY = tuple(sorted(tlp.value for tlp in OWNER_ONLY))


def sight(scope: Scope) -> Sight:
    """The caller's agency's sight of the cases, for look-ups that never read a hidden row."""
    return Sight(
        agency_id=scope.caller().agency_id,
        now=scope.now,
        link_statuses=_LINK_STATUSES,
        owner_only=_OWNER_ONLY,
        full_scope=ShareScope.FULL.value,
    )


async def seen(scope: Scope, model: type[Row], ids: Iterable[UUID]) -> list[Row]:
    """The rows with these ids of cases, or of their contents, that the caller's agency sees.

    The SQL decides, so another agency's row is never loaded: it and a missing id take one
    path, in answers and in time (no existence oracle). `visible_cases` then applies the
    policy in full to the cases found.
    """
    return await scope.store.seen_by_ids(model, ids, sight(scope))


async def visible_cases(
    scope: Scope, case_ids: Iterable[UUID]
) -> dict[UUID, tuple[CaseRow, CaseGrant]]:
    """The cases among these ids that exist for the caller, with its grant on each."""
    rows = await seen(scope, CaseRow, case_ids)
    grants = await grants_for(scope, rows)
    return {row.id: (row, grant) for row in rows if (grant := grants[row.id]) is not None}


async def authorize(
    scope: Scope,
    case_id: UUID,
    action: Action,
    field: str = "caseId",
    missing: str = "No such case.",
) -> tuple[CaseRow, CaseGrant]:
    """The case, if the caller may take the action on it; NOT_FOUND or FORBIDDEN otherwise.

    `field` and `missing` name the argument the case was reached from (a share, a subject…):
    NOT_FOUND on one argument reads the same whatever the reason, as one for a random id.
    """
    principal = scope.caller()
    found = (await visible_cases(scope, [case_id])).get(case_id)
    grant = found[1] if found else None
    decision = decide(action, grant.access if grant else None, principal.roles)
    if decision is Decision.NOT_FOUND or found is None:
        raise NotFound(missing, [field])
    if decision is Decision.FORBIDDEN:
        raise Forbidden(
            "Your agency's access or your roles do not allow this on the case.", [field]
        )
    return found


def may_read_protected(scope: Scope, grant: CaseGrant) -> bool:
    """Whether the caller may decrypt the case's protected fields."""
    return decide(Action.READ_PROTECTED, grant.access, scope.caller().roles) is Decision.ALLOW
