"""The pure paging rules (casehub.domain.paging), table by table, and a model check: over a
list of keys, every window read through `reads`/`settle`/`beyond` is the slice the Relay cursor
connections specification defines."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from casehub.domain.errors import ValidationFailed
from casehub.domain.paging import KeyRange, Window, beyond, reads, settle, window


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, Window(20)),
        ({"first": 5}, Window(5)),
        ({"first": 5, "after": 9}, Window(5, after=9)),
        ({"last": 5}, Window(5, backward=True)),
        ({"last": 5, "before": 9}, Window(5, backward=True, before=9)),
        ({"last": 1, "after": 2, "before": 9}, Window(1, backward=True, after=2, before=9)),
        ({"first": 100}, Window(100)),
        ({"last": 100}, Window(100, backward=True)),
        ({"before": 9}, Window(20, before=9)),
    ],
)
def test_window(arguments: dict[str, int], expected: Window[int]) -> None:
    given: dict[str, Any] = {"first": None, "after": None, **arguments}
    assert window(**given) == expected


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"first": 1, "last": 1}, ["last"]),
        ({"first": 0}, ["first"]),
        ({"first": 101}, ["first"]),
        ({"last": 0}, ["last"]),
        ({"last": -1}, ["last"]),
        ({"last": 101}, ["last"]),
        ({"last": 51, "maximum": 50}, ["last"]),
    ],
)
def test_bad_windows_name_their_argument(arguments: dict[str, int], field: list[str]) -> None:
    given: dict[str, Any] = {"first": None, "after": None, **arguments}
    with pytest.raises(ValidationFailed) as refused:
        window(**given)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("given", "descending", "expected"),
    [
        (Window(3), True, KeyRange(4, True)),
        (Window(3, after=9), True, KeyRange(4, True, below=9)),
        (Window(3, backward=True, before=2), True, KeyRange(4, False, above=2)),
        (Window(3, after=9, before=2), True, KeyRange(4, True, below=9, above=2)),
        (Window(3, after=9), False, KeyRange(4, False, above=9)),
        (Window(3, backward=True, before=2), False, KeyRange(4, True, below=2)),
    ],
)
def test_reads(given: Window[int], descending: bool, expected: KeyRange[int]) -> None:
    assert reads(given, descending=descending) == expected


@pytest.mark.parametrize(
    ("given", "descending", "expected"),
    [
        (Window(3), True, None),
        (Window(3, backward=True), True, None),
        (Window(3, before=5), True, None),  # `before` bounds a forward page; it starts at `after`
        (Window(3, after=9), True, KeyRange(1, False, above=9, inclusive=True)),
        (Window(3, backward=True, before=2), True, KeyRange(1, True, below=2, inclusive=True)),
        (Window(3, after=9), False, KeyRange(1, True, below=9, inclusive=True)),
        (Window(3, backward=True, before=2), False, KeyRange(1, False, above=2, inclusive=True)),
    ],
)
def test_beyond(given: Window[int], descending: bool, expected: KeyRange[int] | None) -> None:
    assert beyond(given, descending=descending) == expected


def _read(keys: list[int], wanted: KeyRange[int]) -> list[int]:
    """The keyset query of casehub.persistence.keysets, over a list."""

    def inside(key: int) -> bool:
        if wanted.below is not None and not (
            key <= wanted.below if wanted.inclusive else key < wanted.below
        ):
            return False
        return wanted.above is None or (
            key >= wanted.above if wanted.inclusive else key > wanted.above
        )

    return sorted(filter(inside, keys), reverse=wanted.descending)[: wanted.limit]


def _relay(shown: list[int], given: Window[int]) -> tuple[list[int], bool, bool]:
    """The specification's algorithm on the list as shown: the edges, hasPreviousPage and
    hasNextPage (the optional flags answered as "anything on the other side of the cursor")."""
    edges = list(shown)
    if given.after is not None and given.after in shown:
        edges = edges[shown.index(given.after) + 1 :]
    if given.before is not None and given.before in shown:
        edges = edges[: edges.index(given.before)] if given.before in edges else []
    if given.backward:
        page = edges[-given.size :]
        previous = len(edges) > given.size
        following = given.before is not None and shown.index(given.before) < len(shown)
        return page, previous, following
    page = edges[: given.size]
    return page, given.after is not None, len(edges) > given.size


@pytest.mark.parametrize("descending", [True, False])
def test_every_window_is_the_specifications_slice(descending: bool) -> None:
    keys = [3, 5, 8, 13, 21, 34]
    shown = sorted(keys, reverse=descending)
    for size, backward, after, before in itertools.product(
        [1, 2, 5, 6, 7], [False, True], [None, *keys], [None, *keys]
    ):
        if after is not None and before is not None and shown.index(after) >= shown.index(before):
            continue
        given = Window(size, backward, after, before)
        page = settle(given, _read(keys, reads(given, descending=descending)))
        other = beyond(given, descending=descending)
        past = other is not None and bool(_read(keys, other))
        previous, following = (page.more, past) if backward else (past, page.more)
        assert (page.rows, previous, following) == _relay(shown, given), given
