"""Relay's shapes shared by every area: the Node interface and the pages of a connection.

`Connection[Case]` is the GraphQL type CaseConnection and `Edge[Case]` is CaseEdge (strawberry
names a specialised generic after its argument), so each list has its own types without a
copy of their fields.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar
from uuid import UUID

import strawberry

from casehub.api.context import Info
from casehub.api.ids import to_cursor
from casehub.services.runtime import Scope

T = TypeVar("T")


class Identified(Protocol):
    """An item of a page whose cursor is its id."""

    @property
    def id(self) -> UUID: ...


V = TypeVar("V", bound=Identified)

# How many items of a list match its filter in all, counted in the caller's scope.
Count = Callable[[Scope], Awaitable[int]]


@strawberry.interface(description="An object with an opaque global id, fetchable with `node`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global id.")


@strawberry.type(description="Pagination state of a connection.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last item, for `after`.")


@strawberry.type(description="An item of a page, with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque cursor of this item, for `after`.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, in the order the field returning it states.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page.")
    page_info: PageInfo = strawberry.field(description="Where the page ends.")


# Named "Connection" too, so that `CountedConnection[Case]` is CaseConnection: a list has
# either kind of page, never both.
@strawberry.type(
    name="Connection", description="A page of a list, in the order the field returning it states."
)
class CountedConnection(Connection[T]):
    _count: strawberry.Private[Count]

    @strawberry.field(description="How many items match the filter in all (one COUNT query).")
    async def total_count(self, info: Info) -> int:
        return await self._count(info.context.scope)


def _by_id(item: Identified) -> str:
    return to_cursor(item.id)


def _edges(
    items: Sequence[V], has_more: bool, render: Callable[[V], T], cursor: Callable[[V], str]
) -> tuple[list[Edge[T]], PageInfo]:
    edges = [Edge(cursor=cursor(item), node=render(item)) for item in items]
    end = edges[-1].cursor if edges else None
    return edges, PageInfo(has_next_page=has_more, end_cursor=end)


def page(
    items: Sequence[V],
    has_more: bool,
    render: Callable[[V], T],
    *,
    cursor: Callable[[V], str] = _by_id,
) -> Connection[T]:
    """A page of views rendered as GraphQL objects; each cursor is the item's id unless
    `cursor` says otherwise."""
    edges, page_info = _edges(items, has_more, render, cursor)
    return Connection(edges=edges, page_info=page_info)


def counted_page(
    items: Sequence[V],
    has_more: bool,
    render: Callable[[V], T],
    count: Count,
    *,
    cursor: Callable[[V], str] = _by_id,
) -> CountedConnection[T]:
    """A page as `page` builds it, whose `totalCount` runs `count` when asked for."""
    edges, page_info = _edges(items, has_more, render, cursor)
    return CountedConnection(edges=edges, page_info=page_info, _count=count)
