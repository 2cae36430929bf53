"""An agency's sight of the cases, for look-ups that must not read what it cannot see.

A look-up that loads a row first and asks the access policy afterwards answers "no such
object" for another agency's row only after more work than for an id naming nothing: more
statements, a lock taken, more time. Look-ups through a `Sight` carry the visibility rule in
their SQL instead, so that a hidden row and a missing one are both "no row" from the first
statement on (what an agency cannot see does not exist for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import col

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
