"""The cooperation request state machine over every (state, action, side) triple.

The expected table is written out by hand from DESIGN §3, not derived from the module's own
TRANSITIONS: a pair the design lists moves to its state, everything else is INVALID_TRANSITION.
"""

from __future__ import annotations

import itertools

import pytest

from casehub.domain.errors import DomainError, ErrorCode
from casehub.domain.requests.transitions import (
    FulfilOutcome,
    InvalidTransition,
    RequestAction,
    RequestStatus,
    Side,
    next_status,
)

STATES = (
    "DRAFT",
    "AWAITING_APPROVAL",
    "SUBMITTED",
    "ACKNOWLEDGED",
    "ACCEPTED",
    "DECLINED",
    "FULFILLED",
    "PARTIALLY_FULFILLED",
    "WITHDRAWN",
    "CLOSED",
)
ACTIONS = ("SUBMIT", "APPROVE", "ACKNOWLEDGE", "ACCEPT", "DECLINE", "FULFIL", "WITHDRAW", "CLOSE")
SIDES = ("REQUESTER", "REQUESTED")

# DESIGN §3, row by row: (from, action, side) -> to. FULFIL is listed per outcome below.
ALLOWED: dict[tuple[str, str, str], str] = {
    # DRAFT | submit (requester) | SUBMITTED
    ("DRAFT", "SUBMIT", "REQUESTER"): "SUBMITTED",
    # AWAITING_APPROVAL | approve (requester's SUPERVISOR) | SUBMITTED (issue 15, four eyes)
    ("AWAITING_APPROVAL", "APPROVE", "REQUESTER"): "SUBMITTED",
    # SUBMITTED | acknowledge (requested) | ACKNOWLEDGED
    ("SUBMITTED", "ACKNOWLEDGE", "REQUESTED"): "ACKNOWLEDGED",
    # SUBMITTED, ACKNOWLEDGED | accept (requested) | ACCEPTED
    ("SUBMITTED", "ACCEPT", "REQUESTED"): "ACCEPTED",
    ("ACKNOWLEDGED", "ACCEPT", "REQUESTED"): "ACCEPTED",
    # SUBMITTED, ACKNOWLEDGED, ACCEPTED | decline (requested) | DECLINED
    ("SUBMITTED", "DECLINE", "REQUESTED"): "DECLINED",
    ("ACKNOWLEDGED", "DECLINE", "REQUESTED"): "DECLINED",
    ("ACCEPTED", "DECLINE", "REQUESTED"): "DECLINED",
    # DRAFT … ACCEPTED | withdraw (requester) | WITHDRAWN
    ("DRAFT", "WITHDRAW", "REQUESTER"): "WITHDRAWN",
    ("AWAITING_APPROVAL", "WITHDRAW", "REQUESTER"): "WITHDRAWN",
    ("SUBMITTED", "WITHDRAW", "REQUESTER"): "WITHDRAWN",
    ("ACKNOWLEDGED", "WITHDRAW", "REQUESTER"): "WITHDRAWN",
    ("ACCEPTED", "WITHDRAW", "REQUESTER"): "WITHDRAWN",
    # FULFILLED, PARTIALLY_FULFILLED, DECLINED | close (requester) | CLOSED
    ("FULFILLED", "CLOSE", "REQUESTER"): "CLOSED",
    ("PARTIALLY_FULFILLED", "CLOSE", "REQUESTER"): "CLOSED",
    ("DECLINED", "CLOSE", "REQUESTER"): "CLOSED",
}

# ACCEPTED | fulfil (requested, full or partial) | FULFILLED / PARTIALLY_FULFILLED
FULFIL_ALLOWED: dict[tuple[str, str, str], str] = {
    ("ACCEPTED", "REQUESTED", "FULL"): "FULFILLED",
    ("ACCEPTED", "REQUESTED", "PARTIAL"): "PARTIALLY_FULFILLED",
}

NON_FULFIL = [
    (state, action, side)
    for state, action, side in itertools.product(STATES, ACTIONS, SIDES)
    if action != "FULFIL"
]
FULFIL = list(itertools.product(STATES, SIDES, ("FULL", "PARTIAL")))


def test_the_hand_written_table_names_every_state_and_transition_action() -> None:
    assert set(STATES) == {status.value for status in RequestStatus}
    # CREATE and MESSAGE are steps of the event log, not moves of the state machine.
    assert set(ACTIONS) | {"CREATE", "MESSAGE"} == {action.value for action in RequestAction}
    assert set(SIDES) == {side.value for side in Side}
    assert len(NON_FULFIL) == 10 * 7 * 2
    assert len(FULFIL) == 10 * 2 * 2


def _refused(status: str, action: str, side: str, outcome: str | None = None) -> None:
    with pytest.raises(InvalidTransition) as caught:
        next_status(
            RequestStatus(status),
            RequestAction(action),
            Side(side),
            FulfilOutcome(outcome) if outcome else None,
        )
    error = caught.value
    assert isinstance(error, DomainError)
    assert error.code is ErrorCode.INVALID_TRANSITION
    assert error.message


@pytest.mark.parametrize(("status", "action", "side"), NON_FULFIL)
def test_transition(status: str, action: str, side: str) -> None:
    expected = ALLOWED.get((status, action, side))
    if expected is None:
        _refused(status, action, side)
        return
    moved = next_status(RequestStatus(status), RequestAction(action), Side(side))
    assert moved is RequestStatus(expected)


@pytest.mark.parametrize(("status", "side", "outcome"), FULFIL)
def test_fulfil(status: str, side: str, outcome: str) -> None:
    expected = FULFIL_ALLOWED.get((status, side, outcome))
    if expected is None:
        _refused(status, "FULFIL", side, outcome)
        return
    moved = next_status(
        RequestStatus(status), RequestAction.FULFIL, Side(side), FulfilOutcome(outcome)
    )
    assert moved is RequestStatus(expected)


@pytest.mark.parametrize("status", STATES)
@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("action", ["CREATE", "MESSAGE"])
def test_create_and_message_never_move_a_request(status: str, side: str, action: str) -> None:
    _refused(status, action, side)


def test_terminal_states_take_no_action_at_all() -> None:
    for status, action, side in itertools.product(("WITHDRAWN", "CLOSED"), ACTIONS, SIDES):
        _refused(status, action, side, "FULL" if action == "FULFIL" else None)


@pytest.mark.parametrize(
    ("approval", "expected"), [(False, "SUBMITTED"), (True, "AWAITING_APPROVAL")]
)
def test_a_submission_that_needs_approval_waits_for_it(approval: bool, expected: str) -> None:
    moved = next_status(
        RequestStatus.DRAFT, RequestAction.SUBMIT, Side.REQUESTER, approval=approval
    )
    assert moved is RequestStatus(expected)


def test_approval_changes_nothing_but_a_submission() -> None:
    moved = next_status(
        RequestStatus.SUBMITTED, RequestAction.ACCEPT, Side.REQUESTED, approval=True
    )
    assert moved is RequestStatus.ACCEPTED


def test_the_error_points_at_the_request_id() -> None:
    with pytest.raises(InvalidTransition) as caught:
        next_status(RequestStatus.SUBMITTED, RequestAction.ACKNOWLEDGE, Side.REQUESTER)
    assert caught.value.field == ["id"]
