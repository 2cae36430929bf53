"""Which events of a request reach the requested agency: from the submission on, never before."""

from __future__ import annotations

import pytest

from casehub.domain.requests.transitions import (
    RequestAction,
    RequestStatus,
    event_reaches_requested,
    reaches_requested,
)

A, S = RequestAction, RequestStatus


@pytest.mark.parametrize(
    ("action", "from_status", "to_status", "expected"),
    [
        (A.CREATE, None, S.DRAFT, False),
        (A.MESSAGE, S.DRAFT, S.DRAFT, False),
        (A.WITHDRAW, S.DRAFT, S.WITHDRAWN, False),
        (A.SUBMIT, S.DRAFT, S.SUBMITTED, True),
        # Four eyes: nothing reaches the requested agency until a supervisor approves.
        (A.SUBMIT, S.DRAFT, S.AWAITING_APPROVAL, False),
        (A.MESSAGE, S.AWAITING_APPROVAL, S.AWAITING_APPROVAL, False),
        (A.WITHDRAW, S.AWAITING_APPROVAL, S.WITHDRAWN, False),
        (A.APPROVE, S.AWAITING_APPROVAL, S.SUBMITTED, True),
        (A.ACKNOWLEDGE, S.SUBMITTED, S.ACKNOWLEDGED, True),
        (A.WITHDRAW, S.SUBMITTED, S.WITHDRAWN, True),
        (A.MESSAGE, S.ACCEPTED, S.ACCEPTED, True),
        (A.CLOSE, S.FULFILLED, S.CLOSED, True),
        (A.MESSAGE, S.WITHDRAWN, S.WITHDRAWN, True),
    ],
)
def test_event_reaches_requested(action, from_status, to_status, expected):
    assert event_reaches_requested(action, from_status, to_status) is expected


@pytest.mark.parametrize(("submitted", "expected"), [(False, False), (True, True)])
def test_request_reaches_requested_once_submitted(submitted, expected):
    assert reaches_requested(submitted) is expected
