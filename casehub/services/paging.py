"""A page of a list read through one keyset query (casehub.domain.paging), the same for
every list: the query is given the range to read, so a page and its neighbour check go
through the very query (and sight) of the list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from casehub.domain import paging
from casehub.domain.paging import KeyRange, Window

K = TypeVar("K")
R = TypeVar("R")
V = TypeVar("V")

# The list's query: its rows in a range of keys.
Read = Callable[[KeyRange[K]], Awaitable[Sequence[R]]]


@dataclass(slots=True)
class Listed(Generic[V]):
    """A page of views in the list's order. `more`: whether items follow in the direction the
    page was read (after it when forward, before it when `backward`); `beyond` reads whether
    any lies past the cursor the page starts from, when a client asks."""

    items: list[V]
    more: bool
    backward: bool
    beyond: Callable[[], Awaitable[bool]]

    @property
    def has_next_page(self) -> bool:
        """Whether items follow the page, as far as its own read tells: a backward page
        answers False (the Relay specification allows it; `beyond` knows)."""
        return self.more and not self.backward


async def read_page(
    given: Window[K],
    read: Read[K, R],
    render: Callable[[list[R]], Awaitable[list[V]]],
    *,
    descending: bool,
) -> Listed[V]:
    """The page `given` asks for of a list shown in `descending` (or ascending) key order."""
    page = paging.settle(given, await read(paging.reads(given, descending=descending)))
    other = paging.beyond(given, descending=descending)

    async def beyond() -> bool:
        return other is not None and bool(await read(other))

    return Listed(await render(page.rows), page.more, given.backward, beyond)
