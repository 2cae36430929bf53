"""Cooperation requests: kinds, states, and their state machine."""

from __future__ import annotations

from enum import StrEnum

from casehub.domain.errors import DomainError, ErrorCode


class RequestKind(StrEnum):
    """What is asked of the requested agency."""

    MUTUAL_LEGAL_ASSISTANCE = "MUTUAL_LEGAL_ASSISTANCE"
    INFORMATION_REQUEST = "INFORMATION_REQUEST"
    EVIDENCE_PRESERVATION = "EVIDENCE_PRESERVATION"
    DATA_DISCLOSURE = "DATA_DISCLOSURE"
    EMERGENCY_DISCLOSURE = "EMERGENCY_DISCLOSURE"
    CONTENT_REMOVAL = "CONTENT_REMOVAL"
    JOINT_INVESTIGATION = "JOINT_INVESTIGATION"
    ASSET_FREEZE = "ASSET_FREEZE"


class Priority(StrEnum):
    """How fast the request must be handled."""

    ROUTINE = "ROUTINE"
    URGENT = "URGENT"
    EMERGENCY = "EMERGENCY"


class RequestStatus(StrEnum):
    """Where a request is in its lifecycle."""

    DRAFT = "DRAFT"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    SUBMITTED = "SUBMITTED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    FULFILLED = "FULFILLED"
    PARTIALLY_FULFILLED = "PARTIALLY_FULFILLED"
    WITHDRAWN = "WITHDRAWN"
    CLOSED = "CLOSED"


class RequestAction(StrEnum):
    """A transition a party can ask for."""

    CREATE = "CREATE"
    SUBMIT = "SUBMIT"
    ACKNOWLEDGE = "ACKNOWLEDGE"
    ACCEPT = "ACCEPT"
    DECLINE = "DECLINE"
    FULFIL = "FULFIL"
    WITHDRAW = "WITHDRAW"
    CLOSE = "CLOSE"
    MESSAGE = "MESSAGE"
    APPROVE = "APPROVE"


class Side(StrEnum):
    """Which party of a request an agency is."""

    REQUESTER = "REQUESTER"
    REQUESTED = "REQUESTED"


class Direction(StrEnum):
    """Requests an agency received (INCOMING) or sent (OUTGOING)."""

    INCOMING = "INCOMING"
    OUTGOING = "OUTGOING"


class FulfilOutcome(StrEnum):
    """Whether the requested agency did all or part of what was asked."""

    FULL = "FULL"
    PARTIAL = "PARTIAL"


class InvalidTransition(DomainError):
    """The action is not allowed from the request's state for this party."""

    code = ErrorCode.INVALID_TRANSITION


S = RequestStatus
A = RequestAction

# (from, action) -> (who may act, to). FULFIL's target depends on the outcome.
TRANSITIONS: dict[tuple[RequestStatus, RequestAction], tuple[Side, RequestStatus]] = {
    (S.DRAFT, A.SUBMIT): (Side.REQUESTER, S.SUBMITTED),
    # Four eyes (`needs_approval`): the submission waits for a supervisor's countersignature.
    (S.AWAITING_APPROVAL, A.APPROVE): (Side.REQUESTER, S.SUBMITTED),
    (S.SUBMITTED, A.ACKNOWLEDGE): (Side.REQUESTED, S.ACKNOWLEDGED),
    (S.SUBMITTED, A.ACCEPT): (Side.REQUESTED, S.ACCEPTED),
    (S.ACKNOWLEDGED, A.ACCEPT): (Side.REQUESTED, S.ACCEPTED),
    (S.SUBMITTED, A.DECLINE): (Side.REQUESTED, S.DECLINED),
    (S.ACKNOWLEDGED, A.DECLINE): (Side.REQUESTED, S.DECLINED),
    (S.ACCEPTED, A.DECLINE): (Side.REQUESTED, S.DECLINED),
    (S.ACCEPTED, A.FULFIL): (Side.REQUESTED, S.FULFILLED),
    (S.DRAFT, A.WITHDRAW): (Side.REQUESTER, S.WITHDRAWN),
    (S.AWAITING_APPROVAL, A.WITHDRAW): (Side.REQUESTER, S.WITHDRAWN),
    (S.SUBMITTED, A.WITHDRAW): (Side.REQUESTER, S.WITHDRAWN),
    (S.ACKNOWLEDGED, A.WITHDRAW): (Side.REQUESTER, S.WITHDRAWN),
    (S.ACCEPTED, A.WITHDRAW): (Side.REQUESTER, S.WITHDRAWN),
    (S.FULFILLED, A.CLOSE): (Side.REQUESTER, S.CLOSED),
    (S.PARTIALLY_FULFILLED, A.CLOSE): (Side.REQUESTER, S.CLOSED),
    (S.DECLINED, A.CLOSE): (Side.REQUESTER, S.CLOSED),
}

# While a request is open the requested agency works on it (and reads what it links to).
OPEN = frozenset({S.SUBMITTED, S.ACKNOWLEDGED, S.ACCEPTED})


def next_status(
    status: RequestStatus,
    action: RequestAction,
    side: Side,
    outcome: FulfilOutcome | None = None,
    *,
    approval: bool = False,
) -> RequestStatus:
    """The state the action leads to, or INVALID_TRANSITION for any pair the table lacks.
    `approval`: the request needs a supervisor's countersignature (four eyes) before it is
    sent, so a submission waits in AWAITING_APPROVAL."""
    allowed = TRANSITIONS.get((status, action))
    if allowed is None or allowed[0] is not side:
        raise InvalidTransition(
            f"A {side.value.lower()} cannot {action.value.lower()} a request that is "
            f"{status.value}.",
            ["id"],
        )
    target = allowed[1]
    if action is A.FULFIL and outcome is FulfilOutcome.PARTIAL:
        return S.PARTIALLY_FULFILLED
    if action is A.SUBMIT and approval:
        return S.AWAITING_APPROVAL
    return target


def reaches_requested(submitted: bool) -> bool:
    """A request reaches the requested agency once submitted; a draft never does, even after
    it is withdrawn."""
    return submitted


# Where a request has not reached the requested agency yet.
UNSENT = frozenset({S.DRAFT, S.AWAITING_APPROVAL})


def event_reaches_requested(
    action: RequestAction, from_status: RequestStatus | None, to_status: RequestStatus
) -> bool:
    """Whether the requested agency sees an event: from the step that sends the request to it
    on (a submission, or the approval of one awaiting it), never before."""
    if action is A.CREATE or from_status is None:
        return False
    return from_status not in UNSENT or to_status is S.SUBMITTED
