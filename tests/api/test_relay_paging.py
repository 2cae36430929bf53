"""Relay cursor pagination on every connection, over HTTP on both engines: walking a list
backward (`last`/`before`) gives exactly the pages walking it forward (`first`/`after`) gives,
mirrored, with the page info the Relay cursor connections specification asks for; items the
caller may not see lie between the visible ones and show in no page, cursor, count or
`hasPreviousPage`/`hasNextPage`. Bad arguments are typed errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest

from casehub.api.ids import parse_cursor, parse_global_id, to_cursor
from casehub.app import create_app
from casehub.config import Settings
from casehub.domain.documents import ManifestEntry, document_id
from casehub.services.documents import add_manifest
from casehub.services.runtime import Runtime
from tests.api.conftest import AgencyHandle, Api, GraphQLCall
from tests.conftest import GraphQL
from tests.request_support import Requests

PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  list: %s(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { %s } }
  } }"""


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The real app, without the per-token rate limit (a walk runs dozens of requests)."""
    unlimited = settings.model_copy(
        update={"rate_limit_per_second": 1e6, "rate_limit_burst": 10**6}
    )
    transport = httpx.ASGITransport(app=create_app(unlimited, runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
        yield http


@dataclass(frozen=True)
class Page:
    cursors: list[str]
    nodes: list[dict[str, Any]]
    has_next: bool
    has_previous: bool
    start: str | None
    end: str | None
    total: int


class Lister:
    """One connection of one caller, fetched page by page."""

    def __init__(self, gql: GraphQLCall, token: str, field: str, node: str = "id") -> None:
        self.gql, self.token, self.document = gql, token, PAGE % (field, node)

    async def __call__(self, **arguments: Any) -> Page:
        body = await self.gql(self.token, self.document, arguments)
        assert "errors" not in body, body
        found = body["data"]["list"]
        info = found["pageInfo"]
        cursors = [edge["cursor"] for edge in found["edges"]]
        assert info["startCursor"] == (cursors[0] if cursors else None), found
        assert info["endCursor"] == (cursors[-1] if cursors else None), found
        return Page(
            cursors,
            [edge["node"] for edge in found["edges"]],
            info["hasNextPage"],
            info["hasPreviousPage"],
            info["startCursor"],
            info["endCursor"],
            found["totalCount"],
        )


async def walk_forward(lister: Lister, size: int) -> list[Page]:
    pages = [await lister(first=size)]
    while pages[-1].has_next:
        pages.append(await lister(first=size, after=pages[-1].end))
        assert len(pages) <= 100, "the walk does not end"
    return pages


async def walk_backward(lister: Lister, size: int) -> list[Page]:
    """From the end of the list toward its start: the last page first."""
    pages = [await lister(last=size)]
    while pages[-1].has_previous:
        pages.append(await lister(last=size, before=pages[-1].start))
        assert len(pages) <= 100, "the walk does not end"
    return pages


async def assert_mirrored(lister: Lister, size: int, everything: list[str]) -> None:
    """Forward and backward walks of `size` cover exactly `everything` (cursors in the list's
    order), each page's neighbour read from its cursor the other way is the page before or
    after it, and every flag says what lies around the page."""
    forward = await walk_forward(lister, size)
    backward = await walk_backward(lister, size)
    assert [cursor for page in forward for cursor in page.cursors] == everything
    assert [cursor for page in reversed(backward) for cursor in page.cursors] == everything
    for walk in (forward, backward):
        assert {page.total for page in walk} == {len(everything)}
        assert all(0 < len(page.cursors) <= size for page in walk) or everything == []
    for index, page in enumerate(forward):
        assert page.has_previous == (index > 0), (index, page)
        assert page.has_next == (index < len(forward) - 1), (index, page)
        if index:
            previous = await lister(last=size, before=page.start)
            assert previous.cursors == forward[index - 1].cursors
            assert previous.has_previous == (index > 1)
            assert previous.has_next is True
    for index, page in enumerate(backward):
        assert page.has_next == (index > 0), (index, page)
        assert page.has_previous == (index < len(backward) - 1), (index, page)
        if index:
            following = await lister(first=size, after=page.end)
            assert following.cursors == backward[index - 1].cursors
            assert following.has_next == (index > 1)
            assert following.has_previous is True


def case_cursor(global_id: str) -> str:
    return to_cursor(parse_global_id(global_id)[1])


async def interleaved_cases(api: Api) -> tuple[AgencyHandle, list[str], list[str]]:
    """A viewer's visible cases (its own and some shared to it) between another agency's
    hidden ones, the newest and the oldest case hidden; (viewer, visible, hidden) ids."""
    viewer, other = await api.agency("VIEW"), await api.agency("OTHR")
    visible: list[str] = []
    hidden: list[str] = []
    for number in range(5):
        theirs = (await api.open_case(other.token))["id"]
        if number % 2:
            await api.shared(other.token, theirs, viewer.id, scope="METADATA")
            visible.append(theirs)
        else:
            hidden.append(theirs)
        if number < 4:
            visible.append((await api.open_case(viewer.token))["id"])
    return viewer, visible, hidden


def newest_first(global_ids: list[str]) -> list[str]:
    return [case_cursor(each) for each in sorted(global_ids, key=_uuid, reverse=True)]


def _uuid(global_id: str) -> UUID:
    return parse_global_id(global_id)[1]


@pytest.mark.parametrize("size", [1, 2, 4, 6, 7])
async def test_cases_backward_mirror_forward_past_hidden_cases(
    api: Api, gql: GraphQLCall, size: int
) -> None:
    viewer, visible, hidden = await interleaved_cases(api)
    everything = newest_first(visible)
    lister = Lister(gql, viewer.token, "cases")
    await assert_mirrored(lister, size, everything)
    assert not {case_cursor(each) for each in hidden} & set(everything)


async def test_hidden_cases_are_no_neighbours_of_a_page(api: Api, gql: GraphQLCall) -> None:
    viewer, visible, hidden = await interleaved_cases(api)
    everything = newest_first(visible)
    lister = Lister(gql, viewer.token, "cases")
    newest_hidden, oldest_hidden = max(hidden, key=_uuid), min(hidden, key=_uuid)
    # A cursor at the newest (hidden) case: nothing the caller sees lies before it.
    after_it = await lister(first=100, after=case_cursor(newest_hidden))
    assert after_it.cursors == everything
    assert (after_it.has_previous, after_it.has_next) == (False, False)
    # A cursor at the oldest (hidden) case: nothing the caller sees lies after it.
    before_it = await lister(last=100, before=case_cursor(oldest_hidden))
    assert before_it.cursors == everything
    assert (before_it.has_previous, before_it.has_next) == (False, False)
    # The end pages say nothing of the hidden cases beyond them.
    first, last = await lister(first=1), await lister(last=1)
    assert (first.cursors, first.has_previous) == (everything[:1], False)
    assert (last.cursors, last.has_next) == (everything[-1:], False)


async def test_both_cursors_bound_one_page(api: Api, gql: GraphQLCall) -> None:
    viewer, visible, _hidden = await interleaved_cases(api)
    everything = newest_first(visible)
    lister = Lister(gql, viewer.token, "cases")
    between = everything[1:-1]
    for page in (
        await lister(first=100, after=everything[0], before=everything[-1]),
        await lister(last=100, after=everything[0], before=everything[-1]),
    ):
        assert page.cursors == between
    assert (await lister(first=2, after=everything[0], before=everything[-1])).cursors == (
        between[:2]
    )
    assert (await lister(last=2, after=everything[0], before=everything[-1])).cursors == (
        between[-2:]
    )


@pytest.mark.parametrize("size", [1, 2, 3])
async def test_requests_backward_mirror_forward_past_hidden_requests(
    api: Api, gql: GraphQLCall, size: int
) -> None:
    viewer, other, third = await api.agency("VIEW"), await api.agency("OTHR"), await api.agency()
    req = Requests(gql)
    visible: list[str] = []
    hidden: list[str] = [await req.draft(other.token, viewer.id)]  # a draft: its author's alone
    visible.append(await req.draft(viewer.token, other.id))
    for requested, seen in ((third.id, hidden), (viewer.id, visible)):
        seen.append(await req.draft(other.token, requested))
        await req.moved(other.token, "submit", seen[-1])
    visible.append(await req.draft(viewer.token, third.id))
    hidden.append(await req.draft(other.token, viewer.id))
    lister = Lister(gql, viewer.token, "cooperationRequests")
    everything = newest_first(visible)
    await assert_mirrored(lister, size, everything)
    assert not {case_cursor(each) for each in hidden} & set(everything)


@pytest.mark.parametrize("size", [1, 3, 5])
async def test_audit_events_backward_mirror_forward_past_other_agencies_events(
    api: Api, gql: GraphQLCall, size: int
) -> None:
    viewer, other = await api.agency("VIEW"), await api.agency("OTHR")
    hidden = []
    for _ in range(3):
        await api.open_case(viewer.token)
        hidden.append(_uuid((await api.open_case(other.token))["id"]))
    lister = Lister(gql, viewer.tokens["AGENCY_ADMIN"], "auditEvents", "action objectId")
    whole = await lister(first=100)
    assert whole.total == len(whole.cursors) >= 3
    assert not {node["objectId"] for node in whole.nodes} & {str(each) for each in hidden}
    await assert_mirrored(lister, size, whole.cursors)


async def test_agencies_backward_mirror_forward(api: Api, gql: GraphQLCall) -> None:
    for _ in range(3):
        await api.agency("DIR")
    viewer = await api.agency("VIEW")
    lister = Lister(gql, viewer.token, "agencies")
    # The directory holds every agency of the database (other tests' too): walk all of it.
    cursors: list[str] = []
    page = await lister(first=100)
    while True:
        cursors += page.cursors
        if not page.has_next:
            break
        page = await lister(first=100, after=page.end)
    # Ordered by id, ascending, every agency of the directory.
    assert cursors == sorted(cursors, key=cursor_id)
    assert page.total == len(cursors) >= 4
    await assert_mirrored(lister, min(100, max(1, len(cursors) // 3)), cursors)


HIT_CHECK = """mutation($ids: [IdentifierInput!]!) {
  hitCheck(identifiers: $ids) { errors { code } } }"""


@pytest.mark.parametrize("size", [1, 2, 4])
async def test_hit_notices_backward_mirror_forward_past_others_notices(
    api: Api, gql: GraphQLCall, size: int
) -> None:
    viewer, holder, checker = await api.agency("VIEW"), await api.agency("HOLD"), await api.agency()
    for agency in (viewer, holder):
        await api.populate(agency.token, (await api.open_case(agency.token))["id"])
    phone = {"kind": "PHONE", "value": api.sample.phone}
    for _ in range(4):  # each check notifies both holders: their notices interleave
        body = await gql(checker.token, HIT_CHECK, {"ids": [phone]})
        assert body["data"]["hitCheck"]["errors"] == [], body
    lister = Lister(gql, viewer.token, "hitNotices", "seq askingAgency { code }")
    whole = await lister(first=100)
    assert whole.total == len(whole.cursors) == 4
    theirs = await Lister(gql, holder.token, "hitNotices")(first=100)
    assert theirs.total == 4
    assert not set(theirs.cursors) & set(whole.cursors)
    await assert_mirrored(lister, size, whole.cursors)


def cursor_id(cursor: str) -> UUID:
    found = parse_cursor(cursor)
    assert found is not None
    return found


CONNECTIONS = ["agencies", "cases", "cooperationRequests", "auditEvents", "hitNotices"]


@pytest.mark.parametrize("field", CONNECTIONS)
async def test_first_and_last_together_is_a_validation_error(
    api: Api, gql: GraphQLCall, field: str
) -> None:
    viewer = await api.agency("VAL")
    body = await gql(viewer.token, f"{{ {field}(first: 1, last: 1) {{ totalCount }} }}")
    [error] = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION", body
    assert error["extensions"]["field"] == ["last"]
    assert body["data"] is None


@pytest.mark.parametrize("field", CONNECTIONS)
@pytest.mark.parametrize("cursor", ["not a cursor", "QXVkaXRFdmVudDp4", "x" * 200])
async def test_a_bad_before_cursor_is_a_validation_error(
    api: Api, gql: GraphQLCall, field: str, cursor: str
) -> None:
    viewer = await api.agency("VAL")
    body = await gql(
        viewer.token,
        f"query($c: String) {{ {field}(last: 1, before: $c) {{ totalCount }} }}",
        {"c": cursor},
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION", body
    assert error["extensions"]["field"] == ["before"]


@pytest.mark.parametrize("size", [0, -1, 101])
async def test_last_has_the_bounds_of_first(api: Api, gql: GraphQLCall, size: int) -> None:
    viewer = await api.agency("VAL")
    answers = []
    for argument in ("first", "last"):
        body = await gql(viewer.token, f"{{ cases({argument}: {size}) {{ totalCount }} }}")
        [error] = body["errors"]
        answers.append((error["extensions"], error["message"].replace(argument, "?")))
    assert answers[0] == answers[1]


BACKWARD_DOCUMENTS = [
    "{ list: cases(last: 2) { edges { cursor } } }",
    "{ list: cooperationRequests(last: 2) { edges { cursor } } }",
    "query($c: String) { list: cases(last: 1, before: $c) { edges { cursor } } }",
    "{ list: cases(first: 1, last: 1) { edges { cursor } } }",
]


@pytest.mark.parametrize("document", BACKWARD_DOCUMENTS)
async def test_registered_backward_documents_answer_as_sent_as_text(
    api: Api, gql: GraphQL, runtime: Runtime, document: str
) -> None:
    viewer, visible, _hidden = await interleaved_cases(api)
    req = Requests(gql)
    for _ in range(3):
        await req.draft(viewer.token, (await api.agency()).id)
    variables = {"c": newest_first(visible)[2]}
    as_text = await gql(viewer.token, document, variables)
    entry = ManifestEntry(document_id(document), None, document)
    await add_manifest(runtime, [entry])
    response = await gql.http.post(
        "/graphql",
        json={"documentId": entry.id, "variables": variables},
        headers={"Authorization": f"Bearer {viewer.token}"},
    )
    assert response.json() == as_text
