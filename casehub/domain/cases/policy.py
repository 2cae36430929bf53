"""Access policy: who sees a case, at which level, and which roles may do what inside it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from casehub.domain.cases.sharing import may_leave_owner
from casehub.domain.enums import Access, Role, ShareScope, Tlp
from casehub.domain.requests.transitions import OPEN, RequestStatus
from casehub.domain.roles import Operation, may


class Action(StrEnum):
    """Everything a principal can do to or within one case."""

    VIEW = "VIEW"
    READ_PROTECTED = "READ_PROTECTED"
    UPDATE_CASE = "UPDATE_CASE"
    ADD_SUBJECT = "ADD_SUBJECT"
    ADD_EVIDENCE = "ADD_EVIDENCE"
    RECORD_CUSTODY = "RECORD_CUSTODY"
    SHARE_CASE = "SHARE_CASE"
    REVOKE_SHARE = "REVOKE_SHARE"
    LIST_SHARES = "LIST_SHARES"
    SET_LEGAL_HOLD = "SET_LEGAL_HOLD"
    SHRED_CASE = "SHRED_CASE"


class Decision(StrEnum):
    """Outcome of a policy question; NOT_FOUND hides the object's existence."""

    ALLOW = "ALLOW"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True, slots=True)
class ShareGrant:
    """One share of a case to an agency, as the policy needs to see it."""

    agency_id: UUID
    scope: ShareScope
    expires_at: datetime | None
    revoked_at: datetime | None

    def is_active(self, now: datetime) -> bool:
        """A share counts while it is neither revoked nor past its expiry."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True, slots=True)
class RequestLink:
    """A cooperation request that links a case, as the policy needs to see it."""

    requested_agency_id: UUID
    status: RequestStatus


# The requested agency reads a linked case's clear fields while it works on the request and
# until the requester closes it; a draft, a withdrawn or a declined request shows nothing.
LINK_ACCESS_STATES = OPEN | {RequestStatus.FULFILLED, RequestStatus.PARTIALLY_FULFILLED}

# The requested agency reads evidence attached to a request in full while the request is open
# (the access policy); the re-sealed copies are destroyed when it leaves OPEN.
ATTACHED_ACCESS_STATES = OPEN


@dataclass(frozen=True, slots=True)
class Attachment:
    """An evidence item attached to a cooperation request, as the policy needs to see it."""

    requested_agency_id: UUID
    status: RequestStatus


# Which access levels may attempt an action at all; others are told FORBIDDEN.
_LEVELS: dict[Action, frozenset[Access]] = {
    Action.VIEW: frozenset(Access),
    Action.READ_PROTECTED: frozenset({Access.OWNER, Access.FULL}),
    Action.UPDATE_CASE: frozenset({Access.OWNER}),
    Action.ADD_SUBJECT: frozenset({Access.OWNER}),
    Action.ADD_EVIDENCE: frozenset({Access.OWNER}),
    # A FULL recipient handles the evidence it was given, so its custody entries belong in the log.
    Action.RECORD_CUSTODY: frozenset({Access.OWNER, Access.FULL}),
    Action.SHARE_CASE: frozenset({Access.OWNER}),
    Action.REVOKE_SHARE: frozenset({Access.OWNER}),
    Action.LIST_SHARES: frozenset({Access.OWNER}),
    Action.SET_LEGAL_HOLD: frozenset({Access.OWNER}),
    Action.SHRED_CASE: frozenset({Access.OWNER}),
}

# Which operation of the role table (casehub.domain.roles) each action is, once the level
# allows it: roles are decided there, for cases as for everything else.
_OPERATIONS: dict[Action, Operation] = {
    Action.VIEW: Operation.READ_CASES,
    Action.READ_PROTECTED: Operation.READ_CASES,
    Action.UPDATE_CASE: Operation.UPDATE_CASE,
    Action.ADD_SUBJECT: Operation.ADD_SUBJECT,
    Action.ADD_EVIDENCE: Operation.ADD_EVIDENCE,
    Action.RECORD_CUSTODY: Operation.RECORD_CUSTODY,
    Action.SHARE_CASE: Operation.SHARE_CASE,
    Action.REVOKE_SHARE: Operation.REVOKE_SHARE,
    Action.LIST_SHARES: Operation.LIST_SHARES,
    Action.SET_LEGAL_HOLD: Operation.SET_LEGAL_HOLD,
    Action.SHRED_CASE: Operation.SHRED_CASE,
}


def case_access(
    *,
    viewer_agency_id: UUID,
    owner_agency_id: UUID,
    grants: Iterable[ShareGrant],
    now: datetime,
    tlp: Tlp,
    links: Iterable[RequestLink] = (),
) -> Access | None:
    """The viewer agency's access to a case, or None when the case does not exist for it.

    A marking that keeps the case inside its owner (AMBER_STRICT) makes every share and link
    count for nothing: the writes refuse them, and a row left from before (or by a race) must
    not open the case either.
    """
    if viewer_agency_id == owner_agency_id:
        return Access.OWNER
    if not may_leave_owner(tlp):
        return None
    best: Access | None = None
    for grant in grants:
        if grant.agency_id != viewer_agency_id or not grant.is_active(now):
            continue
        if grant.scope is ShareScope.FULL:
            return Access.FULL
        best = Access.METADATA
    for link in links:
        if link.requested_agency_id == viewer_agency_id and link.status in LINK_ACCESS_STATES:
            best = Access.METADATA
    return best


def reads_attached(*, tlp: Tlp, status: RequestStatus) -> bool:
    """Whether the requested agency reads, in full, evidence attached to a request in `status`
    linking a case with this marking."""
    return may_leave_owner(tlp) and status in ATTACHED_ACCESS_STATES


def evidence_access(
    *,
    viewer_agency_id: UUID,
    case_access: Access | None,
    tlp: Tlp,
    attachments: Iterable[Attachment] = (),
) -> Access | None:
    """The viewer agency's access to one evidence item: its case's, raised to FULL while the
    item is attached to an open request to the viewer (METADATA of the linked case "plus FULL on
    the evidence attached to that request"). None: the item does not exist for it."""
    if case_access is Access.OWNER or case_access is Access.FULL:
        return case_access
    for attachment in attachments:
        if attachment.requested_agency_id == viewer_agency_id and reads_attached(
            tlp=tlp, status=attachment.status
        ):
            return Access.FULL
    return case_access


def decide(action: Action, access: Access | None, roles: Iterable[Role]) -> Decision:
    """Whether a principal with these roles and this access level may take the action."""
    if access is None:
        return Decision.NOT_FOUND
    if access not in _LEVELS[action]:
        return Decision.FORBIDDEN
    if not may(roles, _OPERATIONS[action]):
        return Decision.FORBIDDEN
    return Decision.ALLOW
