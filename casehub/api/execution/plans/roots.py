"""The supported root fields: each decodes its arguments as its resolver does
(casehub.api.cases.queries, casehub.api.requests.queries) and calls the same service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from casehub.api.ids import parse_cursor
from casehub.services.cases import cases
from casehub.services.requests import reads as request_reads
from casehub.services.runtime import Scope


class Unsupported(Exception):
    """Arguments the plan does not decode (e.g. an identifier filter): the standard executor
    runs the operation instead."""


def _forward(arguments: Mapping[str, Any]) -> None:
    # A backward page's hasNextPage is read past its cursor, lazily, by the standard executor.
    if arguments.get("last") is not None or arguments.get("before") is not None:
        raise Unsupported("backward pagination")


@dataclass(frozen=True, slots=True)
class Page:
    """A root field's page: its views, whether more follow, and how to count them all."""

    items: Sequence[Any]
    has_next_page: bool
    count: Callable[[Scope], Awaitable[int]]


# (scope, arguments, whether the plan reveals a protected field of the nodes) -> the page.
Fetch = Callable[[Scope, Mapping[str, Any], bool], Awaitable[Page]]


async def cases_page(scope: Scope, arguments: Mapping[str, Any], sealed: bool) -> Page:
    """`cases(filter, first, after)` (CaseQuery.cases)."""
    _forward(arguments)
    given = arguments.get("filter") or {}
    if given.get("identifier") is not None:
        raise Unsupported("an identifier filter")
    case_filter = cases.CaseFilter(
        status=given.get("status"),
        category=given.get("category"),
        tlp=given.get("tlp"),
        owned=given.get("owned"),
        identifier=None,
    )
    page = await cases.list_cases(
        scope,
        case_filter=case_filter,
        first=arguments.get("first"),
        after=parse_cursor(arguments.get("after")),
        sealed=sealed,
    )
    count = partial(cases.count_cases, case_filter=page.case_filter)
    return Page(page.items, page.has_next_page, count)


async def requests_page(scope: Scope, arguments: Mapping[str, Any], sealed: bool) -> Page:
    """`cooperationRequests(filter, first, after)` (RequestQuery.cooperation_requests)."""
    _forward(arguments)
    given = arguments.get("filter") or {}
    direction = given.get("direction")
    request_filter = request_reads.RequestFilter(
        direction=direction.value if direction else None,
        statuses=tuple(given.get("status") or ()),
        overdue=bool(given.get("overdue")),
    )
    page = await request_reads.list_requests(
        scope,
        request_filter=request_filter,
        first=arguments.get("first"),
        after=parse_cursor(arguments.get("after")),
        sealed=sealed,
    )
    count = partial(request_reads.count_requests, request_filter=request_filter)
    return Page(page.items, page.has_next_page, count)


# Root field -> (its fetch, the GraphQL type of its nodes).
ROOTS: Mapping[str, tuple[Fetch, str]] = {
    "cases": (cases_page, "Case"),
    "cooperationRequests": (requests_page, "CooperationRequest"),
}
