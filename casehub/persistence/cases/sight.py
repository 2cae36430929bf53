"""An agency's sight of the cases, for look-ups that must not read what it cannot see.

A look-up that loads a row first and asks the access policy afterwards answers "no such
object" for another agency's row only after more work than for an id naming nothing: more
statements, a lock taken, more time. Look-ups through a `Sight` carry the visibility rule in
their SQL instead, so that a hidden row and a missing one are both "no row" from the first
statement on (what an agency cannot see does not exist for it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, exists, or_, select, union
from sqlalchemy.orm import aliased
from sqlmodel import col

from casehub.domain.paging import KeyRange
from casehub.persistence import keysets
from casehub.persistence.base import bound
from casehub.persistence.tables import CaseRow, CaseShareRow, CooperationRequestRow


@dataclass(frozen=True, slots=True)
class Sight:
    """Whose eyes a look-up goes through, and the policy's parameters (the services' to give)."""

    agency_id: UUID
    now: datetime
    # Statuses of a request in which its requested agency sees the linked case.
    link_statuses: tuple[str, ...]
    # Markings whose cases reach no agency but their owner, whatever grant is stored.
    owner_only: tuple[str, ...]
    # The share scope that lets an agency decrypt a case it does not own.
    full_scope: str = "FULL"


# A sight whose values are bound at execution (`bound_values`), for statements built once.
BOUND = Sight(
    bound("sight_agency"),
    bound("sight_now"),
    bound("sight_links", expanding=True),
    bound("sight_owner_only", expanding=True),
    bound("sight_full"),
)


def bound_values(sight: Sight) -> dict[str, Any]:
    """The values of a sight, for a statement built with `BOUND`."""
    return {
        "sight_agency": sight.agency_id,
        "sight_now": sight.now,
        "sight_links": list(sight.link_statuses),
        "sight_owner_only": list(sight.owner_only),
        "sight_full": sight.full_scope,
    }


def _active_share(sight: Sight, *, full_only: bool) -> Any:
    # An alias, correlated to the case alone: the outer statement may read shares itself.
    grant: Any = aliased(CaseShareRow)
    share = (
        select(grant.id)
        .where(
            grant.case_id == col(CaseRow.id),
            grant.agency_id == sight.agency_id,
            grant.revoked_at.is_(None),
            or_(grant.expires_at.is_(None), grant.expires_at > sight.now),
        )
        .correlate(CaseRow)
    )
    if full_only:
        share = share.where(grant.scope == sight.full_scope)
    return exists(share)


def sees(sight: Sight) -> Any:
    """The cases (rows of `CaseRow`) the agency sees: owned, actively shared to it, or linked to
    a request it is asked in; none marked owner-only but its own (domain.policy.case_access)."""
    link = (
        select(col(CooperationRequestRow.id))
        .where(
            col(CooperationRequestRow.case_id) == col(CaseRow.id),
            col(CooperationRequestRow.requested_agency_id) == sight.agency_id,
            col(CooperationRequestRow.status).in_(sight.link_statuses),
        )
        .correlate(CaseRow)
    )
    shared = and_(
        col(CaseRow.tlp).not_in(sight.owner_only),
        or_(_active_share(sight, full_only=False), exists(link)),
    )
    return or_(col(CaseRow.owner_agency_id) == sight.agency_id, shared)


def sees_shares(sight: Sight) -> Any:
    """The cases whose shares the agency sees: its own alone (policy: listing or revoking
    shares needs OWNER access; a recipient, even of a FULL share, does not see the grant)."""
    return col(CaseRow.owner_agency_id) == sight.agency_id


def reads(sight: Sight) -> Any:
    """The cases whose protected fields the agency may decrypt: owned, or shared to it in FULL
    (policy: READ_PROTECTED needs OWNER or FULL access)."""
    shared = and_(col(CaseRow.tlp).not_in(sight.owner_only), _active_share(sight, full_only=True))
    return or_(col(CaseRow.owner_agency_id) == sight.agency_id, shared)


@dataclass(frozen=True, slots=True)
class Keyset:
    """Which case ids a page reads, in which order (`keys`), and which ids it may hold
    (`among`).

    Each source of sight applies them to its own case-id column, the one its index is ordered
    by, so that it is read from the cursor on instead of from its newest (or oldest) row."""

    keys: KeyRange[UUID]
    among: tuple[UUID, ...] | None = None

    def on(self, column: Any) -> list[Any]:
        """The keyset's conditions on one case-id column."""
        clauses = keysets.bounds(column, self.keys)
        if self.among is not None:
            clauses.append(column.in_(self.among))
        return clauses


def _first(column: Any, statement: Any, keys: KeyRange[UUID], *, distinct: bool = True) -> Any:
    # Distinct before the limit: a case shared or linked twice must not take two of its places.
    # A subquery of its own: SQLite takes no ORDER BY or LIMIT in a member of a UNION.
    if distinct:
        statement = statement.distinct()
    leg = statement.order_by(keysets.order(column, keys)).limit(keys.limit).subquery()
    return select(leg.c.id)


def _owned(sight: Sight, keyset: Keyset, where: Sequence[Any]) -> Any:
    case_id = col(CaseRow.id)
    statement: Any = select(case_id.label("id")).where(
        col(CaseRow.owner_agency_id) == sight.agency_id, *keyset.on(case_id), *where
    )
    return _first(case_id, statement, keyset.keys, distinct=False)


def _shared(sight: Sight, keyset: Keyset, where: Sequence[Any]) -> Any:
    grant: Any = aliased(CaseShareRow)
    statement = (
        select(grant.case_id.label("id"))
        .join(CaseRow, col(CaseRow.id) == grant.case_id)
        .where(
            grant.agency_id == sight.agency_id,
            # On both sides of the join, so that neither is read from its end.
            *keyset.on(grant.case_id),
            *keyset.on(col(CaseRow.id)),
            grant.revoked_at.is_(None),
            or_(grant.expires_at.is_(None), grant.expires_at > sight.now),
            col(CaseRow.tlp).not_in(sight.owner_only),
            *where,
        )
    )
    return _first(grant.case_id, statement, keyset.keys)


def _linked(sight: Sight, keyset: Keyset, where: Sequence[Any]) -> Any:
    request: Any = aliased(CooperationRequestRow)
    statement = (
        select(request.case_id.label("id"))
        .join(CaseRow, col(CaseRow.id) == request.case_id)
        .where(
            request.requested_agency_id == sight.agency_id,
            # Requests without a case sort at one end of the index; skip them in it.
            request.case_id.is_not(None),
            # On both sides of the join, so that neither is read from its end.
            *keyset.on(request.case_id),
            *keyset.on(col(CaseRow.id)),
            request.status.in_(sight.link_statuses),
            col(CaseRow.tlp).not_in(sight.owner_only),
            *where,
        )
    )
    return _first(request.case_id, statement, keyset.keys)


def seen_page(
    sight: Sight,
    *,
    keyset: Keyset,
    where: Sequence[Any] = (),
    owned: bool | None = None,
) -> Any:
    """A subquery (column `id`) of the first `keyset.keys.limit` cases in the keyset's range
    and order that the agency sees (`sees`) among those matching `where`; its owned cases
    alone when `owned` is True, the others' alone when False.

    `sees` is one condition over every case, which a planner can only test case by case or
    answer by reading all the agency's shares first. Here each source of sight (owned,
    shared, linked) is read in id order from its own index, stopped at the limit, and the
    sources are merged: a page reads about `limit` rows of each, however many the agency
    holds. Each source gives `limit` distinct ids at most, so the first `limit` of their
    union are the first `limit` of the cases they see together."""
    legs = []
    if owned is not False:
        legs.append(_owned(sight, keyset, where))
    if owned is not True:
        legs += [_shared(sight, keyset, where), _linked(sight, keyset, where)]
    merged = union(*legs).subquery() if len(legs) > 1 else legs[0].subquery()
    keys = keyset.keys
    statement = select(merged.c.id).order_by(keysets.order(merged.c.id, keys))
    return statement.limit(keys.limit).subquery()
