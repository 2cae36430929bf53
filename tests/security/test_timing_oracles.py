"""Timing oracles: reads take the same path, and so the same time, for an object the caller
cannot see and for an id naming nothing (issue 11, item 6).

Through the ASGI app in process, a third agency asks, in interleaved rounds (see
timing_support), for
- `node(id)` of another agency's unshared RED case, against a random case id;
- `node(id)` of a subject in that case, against a random subject id;
- `cases(filter: {identifier})` for a phone number held only in that case, against a fresh
  number, while the owner shares another case with the searcher in FULL (so the search does
  compute the owner's blind index of the value: before the fix it then read the RED case's
  index rows, its grants and its owner's region, and answered `totalCount: 0` ~30% later, an
  oracle that sidesteps the hit-check allowance, the RED opt-out and the holder's notice).

Each comparison fails on a systematic difference (Mann-Whitney |z| > 4 and medians more than
5% apart: see timing_support for the false-positive rate); the answers must be the same too.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import pytest

from casehub.api.ids import parse_global_id, to_global_id
from casehub.app import create_app
from casehub.services.runtime import Runtime
from tests.api.conftest import Api
from tests.conftest import GraphQL, World
from tests.security.timing_support import (
    Comparison,
    interleaved,
    mann_whitney_z,
    signed_rank_z,
)

# Rounds per comparison, untimed rounds first, and at least LEAST rounds once its budget of
# seconds (below) is spent: a few seconds per comparison on an idle machine, each engine under
# 30 s on a loaded one (a search writes its audit event, so it gets the larger budget).
ROUNDS, WARMUP, LEAST = 200, 10, 80

NODE = "query($id: ID!) { node(id: $id) { id } }"
SEARCH = (
    "query($v: String!) { cases(first: 5, filter: {identifier: {kind: PHONE, value: $v}}) "
    "{ totalCount edges { node { id } } } }"
)


@dataclass
class Oracles:
    """A searcher, and what another agency holds that it cannot see."""

    http: httpx.AsyncClient
    token: str
    case: str  # the owner's RED case, not shared with the searcher
    subject: str  # a subject of it
    phone: str  # a phone number held only in that case


def _phone() -> str:
    return "+6019" + "".join(secrets.choice("0123456789") for _ in range(7))


@pytest.fixture(scope="module")
async def oracles(runtime: Runtime) -> AsyncIterator[Oracles]:
    # Its own app, with a rate limit no round trips (the real clock: timing is the point).
    settings = runtime.settings.model_copy(
        update={"rate_limit_per_second": 1e6, "rate_limit_burst": 10**6}
    )
    app = create_app(settings, runtime=dataclasses.replace(runtime, settings=settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
        world, gql = World(runtime), GraphQL(http)
        api = Api(world, gql)
        owner, searcher = await world.agency("TMO"), await world.agency("TMS")
        # The owner shares one case in FULL: the searcher's search computes the owner's index.
        shared = await api.open_case(owner.token, tlp="GREEN")
        await api.shared(owner.token, shared["id"], searcher.id, "FULL")
        red = await api.open_case(owner.token, tlp="RED")
        phone = _phone()
        added = await api.mutate(
            owner.token,
            "addSubject",
            {
                "caseId": red["id"],
                "kind": "PERSON",
                "displayName": "Held apart",
                "identifiers": [{"kind": "PHONE", "value": phone}],
            },
        )
        assert added["errors"] == [], added
        yield Oracles(http, searcher.token, red["id"], added["subject"]["id"], phone)


async def _post(oracles: Oracles, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await oracles.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {oracles.token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _node_of(oracles: Oracles, hidden_id: str) -> tuple[Callable[[], Awaitable[None]], ...]:
    type_name = parse_global_id(hidden_id)[0]

    async def ask(object_id: str) -> None:
        body = await _post(oracles, NODE, {"id": object_id})
        assert body["data"] == {"node": None}, body

    async def hidden() -> None:
        await ask(hidden_id)

    async def missing() -> None:
        await ask(to_global_id(type_name, uuid4()))

    return hidden, missing


def _search(oracles: Oracles) -> tuple[Callable[[], Awaitable[None]], ...]:
    async def ask(value: str) -> None:
        body = await _post(oracles, SEARCH, {"v": value})
        assert body["data"] == {"cases": {"totalCount": 0, "edges": []}}, body

    async def hidden() -> None:
        await ask(oracles.phone)

    async def missing() -> None:
        await ask(_phone())

    return hidden, missing


Calls = Callable[[Oracles], tuple[Callable[[], Awaitable[None]], ...]]
COMPARISONS: dict[str, tuple[Calls, float]] = {
    "node(hidden case)": (lambda o: _node_of(o, o.case), 6.0),
    "node(hidden subject)": (lambda o: _node_of(o, o.subject), 6.0),
    "cases(filter: {identifier}) held only in a hidden RED case": (_search, 14.0),
}


@pytest.mark.parametrize("name", list(COMPARISONS))
async def test_a_hidden_object_takes_the_time_of_a_missing_one(oracles: Oracles, name: str) -> None:
    calls, budget = COMPARISONS[name]
    hidden, missing = calls(oracles)
    comparison: Comparison = await interleaved(
        name,
        hidden,
        missing,
        rounds=ROUNDS,
        warmup=WARMUP,
        seed=len(name),
        budget=budget,
        least=LEAST,
    )
    print(comparison)  # the measurement, shown with -s
    assert not comparison.systematic, str(comparison)


# The rank test itself, against values computed by hand.


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # Identical samples: no tendency.
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], 0.0),
        # Fully separated, 10 and 10: U = 100, mean 50, sd sqrt(10*10*21/12) = 13.229.
        ([float(v) for v in range(10, 20)], [float(v) for v in range(10)], 3.7796),
        ([float(v) for v in range(10)], [float(v) for v in range(10, 20)], -3.7796),
        # Ties: first = [1, 2, 2], second = [2, 3]; ranks 1, 3, 3 | 3, 5; U = 7 - 6 = 1;
        # variance 3*2/12 * (6 - (27 - 3)/20) = 2.4; z = (1 - 3)/sqrt(2.4).
        ([1.0, 2.0, 2.0], [2.0, 3.0], -1.2910),
        # All tied: no information.
        ([5.0, 5.0], [5.0, 5.0, 5.0], 0.0),
    ],
)
def test_mann_whitney_z(first: list[float], second: list[float], expected: float) -> None:
    assert mann_whitney_z(first, second) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    ("differences", "expected"),
    [
        # All five positive: W+ = 15, mean 7.5, variance 5*6*11/24 = 13.75.
        ([1.0, 2.0, 3.0, 4.0, 5.0], 2.0226),
        ([-1.0, -2.0, -3.0, -4.0, -5.0], -2.0226),
        # A zero dropped, a tie: ranks 1.5, 1.5, 3; W+ = 4.5, mean 3, variance 3.5 - 6/48.
        ([0.0, 1.0, -1.0, 2.0], 0.8165),
        ([0.0, 0.0], 0.0),
    ],
)
def test_signed_rank_z(differences: list[float], expected: float) -> None:
    assert signed_rank_z(differences) == pytest.approx(expected, abs=1e-4)


def test_the_verdict_needs_both_a_high_z_and_a_real_effect() -> None:
    slow, fast = [1.10 + i * 1e-4 for i in range(100)], [1.00 + i * 1e-4 for i in range(100)]
    assert Comparison("10% slower", slow, fast).systematic
    # Perfectly separated but 0.5% apart: below the effect that could serve as an oracle.
    close = [1.005 + i * 1e-6 for i in range(100)]
    assert not Comparison("0.5% slower", close, fast[:1] * 100).systematic
    # Far apart in median, too few rounds to tell from chance.
    assert not Comparison("3 rounds", slow[:3], fast[:3]).systematic
