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
    ("action", "from_status", "expected"),
    [
        (A.CREATE, None, False),
        (A.MESSAGE, S.DRAFT, False),
        (A.WITHDRAW, S.DRAFT, False),
        (A.SUBMIT, S.DRAFT, True),
        (A.ACKNOWLEDGE, S.SUBMITTED, True),
        (A.WITHDRAW, S.SUBMITTED, True),
        (A.MESSAGE, S.ACCEPTED, True),
        (A.CLOSE, S.FULFILLED, True),
        (A.MESSAGE, S.WITHDRAWN, True),
    ],
)
def test_event_reaches_requested(action, from_status, expected):
    assert event_reaches_requested(action, from_status) is expected


@pytest.mark.parametrize(("submitted", "expected"), [(False, False), (True, True)])
def test_request_reaches_requested_once_submitted(submitted, expected):
    assert reaches_requested(submitted) is expected
