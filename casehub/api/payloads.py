"""The one shape of a mutation's result: the object it made or changed, then its refusals.

A payload class declares its one result field (its GraphQL name is what clients read: `case`,
`subject`, `request` ...); `payload` adds `errors` after it and `respond` fills both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from casehub.api.errors import UserError, attempt
from casehub.domain.errors import DomainError

C = TypeVar("C", bound=type)
P = TypeVar("P")
V = TypeVar("V")

_ERRORS = "errors"


def payload(description: str) -> Callable[[C], C]:
    """Make a class with one field (the result, null when refused) a payload type."""

    def make(cls: C) -> C:
        # Added to the class itself, not inherited from a base: a base's fields come first,
        # and `errors` follows the result in every payload of the schema.
        cls.__annotations__[_ERRORS] = list[UserError]
        setattr(cls, _ERRORS, strawberry.field(description="Why it was refused, if it was."))
        return strawberry.type(cls, description=description)

    return make


def _result_field(kind: type[Any]) -> str:
    (name,) = (field.name for field in dataclasses.fields(kind) if field.name != _ERRORS)
    return name


async def respond(
    kind: type[P],
    work: Callable[[], Awaitable[V]],
    render: Callable[[V], object],
    *,
    raised: tuple[type[DomainError], ...] = (),
) -> P:
    """Run the service call `work` (see `attempt`) and answer a `kind` payload: its result
    rendered, or null with the refusal's errors (the `raised` kinds stay top-level errors)."""
    view, errors = await attempt(work, raised=raised)
    result = None if view is None else render(view)
    return kind(**{_result_field(kind): result, _ERRORS: errors})


# The one argument of every mutation but hitCheck.
INPUT = strawberry.argument(description="What the mutation is given (see the input type).")
