"""Relay cursor pagination over a keyset: which keys a page reads, in which order, and what its
page info says.

A list is shown in one order of its key (newest first: descending; a directory by id:
ascending). `after` and `before` are keys of that order; `first` reads forward from `after`,
`last` reads backward to `before` (the Relay cursor connections specification). A page is
read as `size + 1` rows in the direction it goes, so the extra row tells whether more follow
that way; whether anything lies on the other side of its cursor is a separate read of one row
(`beyond`), made only when asked for. Both reads are ranges of the same query, so the sight
that query applies to the page applies to its neighbour too: what the caller cannot see is
never a page's neighbour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from casehub.domain.errors import ValidationFailed
from casehub.domain.validation import page_size

K = TypeVar("K")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Window(Generic[K]):
    """What a client asked for: `size` items forward from `after` (or from the start), or
    backward to `before` (or to the end) when `backward`; the other cursor, when given too,
    bounds the page on its side."""

    size: int
    backward: bool = False
    after: K | None = None
    before: K | None = None


@dataclass(frozen=True, slots=True)
class KeyRange(Generic[K]):
    """One read of a keyset: at most `limit` rows whose key is below `below` and above
    `above` (each bound included when `inclusive`), in descending key order or ascending."""

    limit: int
    descending: bool
    below: K | None = None
    above: K | None = None
    inclusive: bool = False


def window(
    *,
    first: int | None,
    after: K | None,
    last: int | None = None,
    before: K | None = None,
    maximum: int = 100,
) -> Window[K]:
    """The window of a connection's arguments; `first` and `last` together, or a size out of
    1..maximum, is a VALIDATION error naming the argument."""
    if first is not None and last is not None:
        raise ValidationFailed("Give `first` or `last`, not both.", ["last"])
    if last is not None:
        if not 1 <= last <= maximum:
            raise ValidationFailed(f"Must be between 1 and {maximum}.", ["last"])
        return Window(last, backward=True, after=after, before=before)
    return Window(page_size(first, maximum=maximum), after=after, before=before)


def reads(given: Window[K], *, descending: bool) -> KeyRange[K]:
    """The read of a page of a list shown in `descending` (or ascending) key order: one row
    more than the page holds, in the direction the page goes."""
    # In a descending list, "after a cursor" holds the lower keys.
    low, high = (given.after, given.before) if descending else (given.before, given.after)
    forward_descending = descending != given.backward
    return KeyRange(given.size + 1, forward_descending, below=low, above=high)


def beyond(given: Window[K], *, descending: bool) -> KeyRange[K] | None:
    """The read of one row on the other side of the page's starting cursor, the cursor's own
    item included (it lies outside the page); None when the page starts at an end of the
    list, where nothing lies beyond."""
    cursor = given.before if given.backward else given.after
    if cursor is None:
        return None
    # Toward the cursor from the page lies what is before `after` / after `before`.
    toward_higher = descending != given.backward
    if toward_higher:
        return KeyRange(1, False, above=cursor, inclusive=True)
    return KeyRange(1, True, below=cursor, inclusive=True)


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    """The rows of a page in the list's order, and whether more follow in the direction it
    was read (`has_next_page` when forward, `has_previous_page` when backward)."""

    rows: list[R]
    more: bool


def settle(given: Window[K], rows: Sequence[R]) -> Page[R]:
    """The page of rows read by `reads`: the extra row dropped, a backward read turned back to
    the list's order."""
    kept = list(rows[: given.size])
    if given.backward:
        kept.reverse()
    return Page(kept, len(rows) > given.size)
