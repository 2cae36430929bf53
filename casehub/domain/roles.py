"""Which roles may take which operation: the one table every read and write service asks.

Roles gate actions inside what the agency can see: this table says whether a role may attempt an
operation at all; the access policy (casehub.domain.cases.policy) then says on which objects.
HUB_ADMIN registers agencies, accredits their signing keys and reads the public directory; it is
not an agency role and reads none of an agency's cases, requests, notices or audit, so a token
holding it alone is refused every one of them, whichever agency it was issued for.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from casehub.domain.enums import Role


class Operation(StrEnum):
    """Everything a principal may be allowed to do, as the role table names it."""

    # Reads
    READ_DIRECTORY = "READ_DIRECTORY"  # viewer, agencies, node(Agency)
    READ_CASES = "READ_CASES"  # cases, node of a case or anything in one, clear or sealed
    READ_REQUESTS = "READ_REQUESTS"  # cooperationRequests, node(request), the events feed
    READ_NOTICES = "READ_NOTICES"  # hitNotices, as a page or live
    READ_AUDIT = "READ_AUDIT"  # auditEvents
    LIST_SHARES = "LIST_SHARES"  # Case.shares, node(CaseShare)
    # Writes
    REGISTER_AGENCY = "REGISTER_AGENCY"
    OPEN_CASE = "OPEN_CASE"
    UPDATE_CASE = "UPDATE_CASE"
    ADD_SUBJECT = "ADD_SUBJECT"  # and setSubjectMatchable
    ADD_EVIDENCE = "ADD_EVIDENCE"
    RECORD_CUSTODY = "RECORD_CUSTODY"
    SHARE_CASE = "SHARE_CASE"
    REVOKE_SHARE = "REVOKE_SHARE"
    SET_LEGAL_HOLD = "SET_LEGAL_HOLD"
    SHRED_CASE = "SHRED_CASE"
    ACT_ON_REQUESTS = "ACT_ON_REQUESTS"  # create, every step, messages
    APPROVE_REQUESTS = "APPROVE_REQUESTS"  # countersign an emergency request (four eyes)
    HIT_CHECK = "HIT_CHECK"
    REGISTER_SIGNING_KEY = "REGISTER_SIGNING_KEY"  # an agency's own public key
    ACCREDIT_SIGNING_KEY = "ACCREDIT_SIGNING_KEY"
    REVOKE_SIGNING_KEY = "REVOKE_SIGNING_KEY"


# The roles that act for an agency inside what it can see.
AGENCY_ROLES = frozenset(
    {Role.READER, Role.INVESTIGATOR, Role.LIAISON_OFFICER, Role.AGENCY_ADMIN, Role.SUPERVISOR}
)

ROLES: dict[Operation, frozenset[Role]] = {
    # The directory of agencies is public to every authenticated principal.
    Operation.READ_DIRECTORY: frozenset(Role),
    Operation.READ_CASES: AGENCY_ROLES,
    Operation.READ_REQUESTS: AGENCY_ROLES,
    Operation.READ_NOTICES: AGENCY_ROLES,
    # Who read what about the agency's objects is the agency's administrators' to see.
    Operation.READ_AUDIT: frozenset({Role.AGENCY_ADMIN}),
    Operation.LIST_SHARES: frozenset({Role.AGENCY_ADMIN, Role.INVESTIGATOR}),
    Operation.REGISTER_AGENCY: frozenset({Role.HUB_ADMIN}),
    Operation.OPEN_CASE: frozenset({Role.INVESTIGATOR}),
    Operation.UPDATE_CASE: frozenset({Role.INVESTIGATOR}),
    Operation.ADD_SUBJECT: frozenset({Role.INVESTIGATOR}),
    Operation.ADD_EVIDENCE: frozenset({Role.INVESTIGATOR}),
    Operation.RECORD_CUSTODY: frozenset({Role.INVESTIGATOR}),
    Operation.SHARE_CASE: frozenset({Role.AGENCY_ADMIN}),
    Operation.REVOKE_SHARE: frozenset({Role.AGENCY_ADMIN}),
    Operation.SET_LEGAL_HOLD: frozenset({Role.AGENCY_ADMIN}),
    Operation.SHRED_CASE: frozenset({Role.AGENCY_ADMIN}),
    Operation.ACT_ON_REQUESTS: frozenset({Role.LIAISON_OFFICER, Role.AGENCY_ADMIN}),
    # The supervisor who approves is never the liaison officer who submitted: the service
    # compares principals, so one token holding both roles still cannot sign twice.
    Operation.APPROVE_REQUESTS: frozenset({Role.SUPERVISOR}),
    Operation.HIT_CHECK: frozenset({Role.LIAISON_OFFICER, Role.INVESTIGATOR}),
    Operation.REGISTER_SIGNING_KEY: frozenset({Role.AGENCY_ADMIN}),
    # Accreditation vouches for an agency's key to every other agency: the hub's decision.
    Operation.ACCREDIT_SIGNING_KEY: frozenset({Role.HUB_ADMIN}),
    # Either side may withdraw its trust in a key: the agency that holds it, or the hub.
    Operation.REVOKE_SIGNING_KEY: frozenset({Role.AGENCY_ADMIN, Role.HUB_ADMIN}),
}


def may(roles: Iterable[Role], operation: Operation) -> bool:
    """Whether a principal holding these roles may attempt the operation."""
    return not ROLES[operation].isdisjoint(roles)


def refusal(operation: Operation) -> str:
    """The FORBIDDEN message for a principal without a role the operation needs."""
    names = " or ".join(sorted(role.value for role in ROLES[operation]))
    return f"This needs the {names} role."
