"""The write-time cap check and the bound the request state machine puts on its events."""

from __future__ import annotations

from enum import Enum

import pytest

from casehub.domain.bounds import check_room, longest_path
from casehub.domain.errors import ErrorCode, ValidationFailed
from casehub.domain.requests.transitions import TRANSITIONS, RequestStatus


@pytest.mark.parametrize(
    ("held", "maximum", "room"),
    [
        (0, 1, True),
        (1, 2, True),
        (99, 100, True),
        (1, 1, False),
        (100, 100, False),
        (101, 100, False),
    ],
)
def test_check_room(held: int, maximum: int, room: bool) -> None:
    def add() -> None:
        check_room(held, maximum=maximum, holder="A case", items="subjects", field=["caseId"])

    if room:
        add()
        return
    with pytest.raises(ValidationFailed) as refused:
        add()
    assert refused.value.code is ErrorCode.VALIDATION
    assert refused.value.field == ["caseId"]
    assert f"A case holds at most {maximum} subjects" in refused.value.message


class S(Enum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Do(Enum):
    GO = "GO"
    SKIP = "SKIP"
    BACK = "BACK"


@pytest.mark.parametrize(
    ("transitions", "start", "steps"),
    [
        ({}, S.A, 0),
        ({(S.A, Do.GO): (None, S.B)}, S.A, 1),
        ({(S.A, Do.GO): (None, S.B), (S.B, Do.GO): (None, S.C)}, S.A, 2),
        # The longest of two ways.
        (
            {
                (S.A, Do.SKIP): (None, S.D),
                (S.A, Do.GO): (None, S.B),
                (S.B, Do.GO): (None, S.C),
                (S.C, Do.GO): (None, S.D),
            },
            S.A,
            3,
        ),
        ({(S.A, Do.GO): (None, S.B)}, S.B, 0),
    ],
)
def test_longest_path(
    transitions: dict[tuple[S, Do], tuple[None, S]], start: S, steps: int
) -> None:
    assert longest_path(transitions, start) == steps


def test_a_loop_has_no_longest_path() -> None:
    loop = {(S.A, Do.GO): (None, S.B), (S.B, Do.BACK): (None, S.A)}
    with pytest.raises(ValueError, match="loops"):
        longest_path(loop, S.A)


def test_a_request_takes_at_most_five_steps_after_its_creation() -> None:
    """submit, acknowledge, accept, fulfil, close: a request has at most 6 events besides its
    messages (casehub.services.caps)."""
    assert longest_path(TRANSITIONS, RequestStatus.DRAFT) == 5
