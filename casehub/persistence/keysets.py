"""A domain KeyRange (casehub.domain.paging) as SQL on the key column a list is ordered by."""

from __future__ import annotations

from typing import Any

from casehub.domain.paging import KeyRange


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
