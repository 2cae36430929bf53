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
    (S.SUBMITTED, A.ACKNOWLEDGE): (Side.REQUESTED, S.ACKNOWLEDGED),
    (S.SUBMITTED, A.ACCEPT): (Side.REQUESTED, S.ACCEPTED),
    (S.ACKNOWLEDGED, A.ACCEPT): (Side.REQUESTED, S.ACCEPTED),
    (S.SUBMITTED, A.DECLINE): (Side.REQUESTED, S.DECLINED),
    (S.ACKNOWLEDGED, A.DECLINE): (Side.REQUESTED, S.DECLINED),
    (S.ACCEPTED, A.DECLINE): (Side.REQUESTED, S.DECLINED),
    (S.ACCEPTED, A.FULFIL): (Side.REQUESTED, S.FULFILLED),
    (S.DRAFT, A.WITHDRAW): (Side.REQUESTER, S.WITHDRAWN),
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
) -> RequestStatus:
    """The state the action leads to, or INVALID_TRANSITION for any pair the table lacks."""
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
    return target


def reaches_requested(submitted: bool) -> bool:
    """A request reaches the requested agency once submitted; a draft never does, even after
    it is withdrawn."""
    return submitted


def event_reaches_requested(action: RequestAction, from_status: RequestStatus | None) -> bool:
    """Whether the requested agency sees an event: from the submission on, never before it."""
    if action is A.CREATE:
        return False
    return from_status is not S.DRAFT or action is A.SUBMIT
