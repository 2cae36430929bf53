"""Relay's shapes shared by every area: the Node interface, the pages of a connection and the
arguments that ask for one (the Relay cursor connections specification).

`Connection[Case]` is the GraphQL type CaseConnection and `Edge[Case]` is CaseEdge (strawberry
names a specialised generic after its argument), so each list has its own types without a
copy of their fields.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, Protocol, TypeVar
from uuid import UUID

import strawberry

from casehub.api.context import Info
from casehub.api.ids import to_cursor
from casehub.services.paging import Listed
from casehub.services.runtime import Scope

T = TypeVar("T")


class Identified(Protocol):
    """An item of a page whose cursor is its id."""

    @property
    def id(self) -> UUID: ...


V = TypeVar("V", bound=Identified)

# How many items of a list match its filter in all, counted in the caller's scope.
Count = Callable[[Scope], Awaitable[int]]

First = Annotated[
    int | None,
    strawberry.argument(
        description="Page forward: at most this many items (1 to the hub's page size, 20 when "
        "neither `first` nor `last` is given), from the start or from `after`. Not with `last`."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Only items after this cursor (an edge's `cursor`, or "
        "`pageInfo.endCursor` for the next page)."
    ),
]
Last = Annotated[
    int | None,
    strawberry.argument(
        description="Page backward: at most this many items (1 to the hub's page size), the "
        "last before `before` or the last of the list. Not with `first`."
    ),
]
Before = Annotated[
    str | None,
    strawberry.argument(
        description="Only items before this cursor (an edge's `cursor`, or "
        "`pageInfo.startCursor` for the previous page)."
    ),
]


@strawberry.interface(description="An object with an opaque global id, fetchable with `node`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global id.")


@strawberry.type(description="Where a page lies in its list.")
class PageInfo:
    start_cursor: str | None = strawberry.field(
        description="Cursor of the first item of the page, for `before`; null when it is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item of the page, for `after`; null when it is empty."
    )
    _listed: strawberry.Private[Listed[Any]]

    @strawberry.field(
        description="Whether items follow the page. Asked with `last`: whether any item lies at "
        "or after `before` (false without `before`)."
    )
    async def has_next_page(self) -> bool:
        listed = self._listed
        return await listed.beyond() if listed.backward else listed.more

    @strawberry.field(
        description="Whether items precede the page. Asked with `first`: whether any item lies "
        "at or before `after` (false without `after`)."
    )
    async def has_previous_page(self) -> bool:
        listed = self._listed
        return listed.more if listed.backward else await listed.beyond()


@strawberry.type(description="An item of a page, with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Opaque cursor of this item, for `after` or `before`."
    )
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, in the order the field returning it states.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page.")
    page_info: PageInfo = strawberry.field(description="Where the page lies in its list.")
    _count: strawberry.Private[Count]

    @strawberry.field(description="How many items match the filter in all (one COUNT query).")
    async def total_count(self, info: Info) -> int:
        return await self._count(info.context.scope)


def _by_id(item: Identified) -> str:
    return to_cursor(item.id)


def page(
    listed: Listed[V],
    render: Callable[[V], T],
    count: Count,
    *,
    cursor: Callable[[V], str] = _by_id,
) -> Connection[T]:
    """A page of views rendered as GraphQL objects, whose `totalCount` runs `count` when asked
    for; each cursor is the item's id unless `cursor` says otherwise."""
    edges = [Edge(cursor=cursor(item), node=render(item)) for item in listed.items]
    page_info = PageInfo(
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
        _listed=listed,
    )
    return Connection(edges=edges, page_info=page_info, _count=count)
