"""Relay's shapes shared by every area: the Node interface and pagination state."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with an opaque global id, fetchable with `node`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global id.")


@strawberry.type(description="Pagination state of a connection.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more items follow.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last item, for `after`.")
