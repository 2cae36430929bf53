"""Maximum sizes of the lists a case or a request holds: the write-time check, and the bounds
that follow from the rules rather than from a setting.

Every list the API returns has a known maximum length, so that the cost of a query computed
before it runs is a true upper bound on what it can return (casehub.api.execution.bounds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import TypeVar

from casehub.domain.errors import ValidationFailed

State = TypeVar("State", bound=Enum)
Action = TypeVar("Action", bound=Enum)
Who = TypeVar("Who")


def check_room(held: int, *, maximum: int, holder: str, items: str, field: Sequence[str]) -> None:
    """Refuse (VALIDATION, naming `field`) to add one more item to a list already holding
    `held` items when it may hold at most `maximum`."""
    if held >= maximum:
        raise ValidationFailed(
            f"{holder} holds at most {maximum} {items}; it has no room for another.", field
        )


def longest_path(
    transitions: Mapping[tuple[State, Action], tuple[Who, State]], start: State
) -> int:
    """The most steps any run of an acyclic state machine takes from `start` (a cycle would
    make it unbounded, so it is refused with ValueError)."""
    following: dict[State, list[State]] = {}
    for (source, _action), (_who, target) in transitions.items():
        following.setdefault(source, []).append(target)

    def steps(state: State, seen: frozenset[State]) -> int:
        if state in seen:
            raise ValueError(f"the state machine loops through {state.name}")
        nexts = following.get(state, [])
        return max((1 + steps(target, seen | {state}) for target in nexts), default=0)

    return steps(start, frozenset())
