"""A domain KeyRange (casehub.domain.paging) as SQL on the key column a list is ordered by."""

from __future__ import annotations

from typing import Any

from casehub.domain.paging import KeyRange
from casehub.persistence.base import bound

# What a statement built once needs to know of a range (its values are bound: `values`).
Shape = tuple[bool, bool, bool, bool]


def shape(keys: KeyRange[Any]) -> Shape:
    """The range's order and which bounds it has: one statement serves every range alike."""
    return (keys.descending, keys.inclusive, keys.below is not None, keys.above is not None)


def bound_range(of: Shape) -> KeyRange[Any]:
    """A range of this shape whose limit and bounds are bind parameters (`values` gives them)."""
    descending, inclusive, below, above = of
    return KeyRange(
        bound("limit"),
        descending,
        below=bound("below") if below else None,
        above=bound("above") if above else None,
        inclusive=inclusive,
    )


def values(keys: KeyRange[Any]) -> dict[str, Any]:
    """The parameters of a statement built with `bound_range(shape(keys))`."""
    return {"limit": keys.limit, "below": keys.below, "above": keys.above}


def bounds(column: Any, keys: KeyRange[Any]) -> list[Any]:
    """The range's conditions on `column`."""
    clauses = []
    if keys.below is not None:
        clauses.append(column <= keys.below if keys.inclusive else column < keys.below)
    if keys.above is not None:
        clauses.append(column >= keys.above if keys.inclusive else column > keys.above)
    return clauses


def order(column: Any, keys: KeyRange[Any]) -> Any:
    """The order the range is read in."""
    return column.desc() if keys.descending else column.asc()


def apply(statement: Any, column: Any, keys: KeyRange[Any]) -> Any:
    """`statement` narrowed to the range, in its order, to its limit."""
    return statement.where(*bounds(column, keys)).order_by(order(column, keys)).limit(keys.limit)
