"""A hub's agency directory between two real hubs on loopback: MY (the engine under test:
SQLite, then PostgreSQL) registers agencies, publishes its directory with `casehub federation
directory publish` and delivers it with `casehub federation deliver --once`; FR, a real
`casehub serve` with its own SQLite database and keyring, lists MY's agencies in its GraphQL
`agencies` with MY as their home hub, and refuses them a token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.federation_delivery_support import casehub, new_hub, ok, serve_at
from tests.integration.servers import Hub
from tests.integration.test_cli import free_port
from tests.postgres import fresh_postgres, require_postgres

AGENCIES = """{ agencies(first: 100) { edges { node {
  id code name kind jurisdiction timezone delisted homeHub { hubId name } } } } }"""


@dataclass
class Pair:
    my: Hub
    my_id: str
    fr: Hub
    fr_id: str
    fr_url: str


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    """MY on the engine under test and FR on SQLite, pinned to each other; FR serving."""
    root = tmp_path_factory.mktemp(f"directory-{request.param}")
    with ExitStack() as stack:
        if request.param == "postgres":
            require_postgres("the federation directory test")
            my_url = stack.enter_context(fresh_postgres("casehub_directory"))
        else:
            my_url = f"sqlite+aiosqlite:///{root / 'my.db'}"
        my, mine = new_hub(root / "MY", my_url, "MY")
        fr, theirs = new_hub(root / "FR", f"sqlite+aiosqlite:///{root / 'fr.db'}", "FR")
        stack.callback(my.stop)
        stack.callback(fr.stop)
        fr_url = serve_at(fr, free_port())
        my_served = serve_at(my, free_port())
        add = ("federation", "peers", "add", "--url")
        ok(my, *add, fr_url, "--fingerprint", theirs["fingerprint"])
        ok(fr, *add, my_served, "--fingerprint", mine["fingerprint"])
        my.stop()  # pinned; this test delivers MY's outbox by hand
        yield Pair(my, mine["hub"], fr, theirs["hub"], fr_url)


def fr_agencies(pair: Pair, token: str) -> dict[str, dict[str, Any]]:
    response = httpx.post(
        f"{pair.fr_url}/graphql",
        json={"query": AGENCIES},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return {edge["node"]["code"]: edge["node"] for edge in body["data"]["agencies"]["edges"]}


def test_a_directory_crosses_and_is_listed_with_its_home_hub(pair: Pair) -> None:
    police = ok(
        pair.my,
        *("agency", "add", "--code", "MY-PDRM", "--name", "Polis Diraja Malaysia"),
        *("--jurisdiction", "MY", "--kind", "LAW_ENFORCEMENT", "--timezone", "Asia/Kuala_Lumpur"),
    )
    published = ok(pair.my, "federation", "directory", "publish")
    assert published["agencies"] == 1
    assert list(published["messages"]) == [pair.fr_id]
    delivered = ok(pair.my, "federation", "deliver", "--once")
    assert delivered["delivered"] == 1, delivered

    # FR's own agency, and a token to read its directory with.
    pair.fr.agency("FR-PNF", "Parquet national financier", "FR", "PROSECUTOR")
    token = pair.fr.token("FR-PNF", "READER")
    listed = fr_agencies(pair, token)
    assert listed["MY-PDRM"] == {
        "id": police["id"],  # addressed by the same global id at both hubs
        "code": "MY-PDRM",
        "name": "Polis Diraja Malaysia",
        "kind": "LAW_ENFORCEMENT",
        "jurisdiction": "MY",
        "timezone": "Asia/Kuala_Lumpur",
        "delisted": False,
        "homeHub": {"hubId": pair.my_id, "name": "MY"},
    }
    assert listed["FR-PNF"]["homeHub"] is None

    # A peer's agency gets no token at FR.
    refused = casehub(pair.fr, "token", "issue", "--agency", "MY-PDRM", "--role", "READER")
    assert refused.returncode != 0
    assert refused.stdout == ""
    assert "reached through federation" in refused.stderr

    # A second agency and a second directory: both listed, in the order issued.
    ok(
        pair.my,
        *("agency", "add", "--code", "MY-MCMC", "--name", "Suruhanjaya Komunikasi"),
        *("--jurisdiction", "MY", "--kind", "REGULATOR"),
    )
    ok(pair.my, "federation", "directory", "publish", "--peer", pair.fr_id)
    assert ok(pair.my, "federation", "deliver", "--once")["delivered"] == 1
    listed = fr_agencies(pair, token)
    assert {code for code, node in listed.items() if node["homeHub"]} == {"MY-PDRM", "MY-MCMC"}


def test_publishing_to_a_hub_that_is_not_pinned_is_refused(pair: Pair) -> None:
    result = casehub(
        pair.my,
        "federation",
        "directory",
        "publish",
        "--peer",
        "0193a0a0-0000-7000-8000-000000000000",
    )
    assert result.returncode != 0
    assert "No pinned peer hub" in result.stderr
    result = casehub(pair.my, "federation", "directory", "publish", "--peer", "not-a-uuid")
    assert result.returncode != 0
    assert "is not a hub id" in result.stderr
