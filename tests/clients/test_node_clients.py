"""graphql-request 7, graphql-ws 6 and Apollo Client's upload link, unmodified under node,
against a live `casehub serve` (tests/clients/clients.mjs): a query, a mutation, a
subscription receiving another agency's request, and an upload with the one header the schema
names. Skipped, naming why, only where node or the packages cannot be had; under CI=true that
fails instead (tests/node_packages.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.clients import node_clients
from tests.clients.live import World
from tests.clients.operations import (
    ADD_EVIDENCE,
    CASES_PAGE,
    CREATE,
    INBOX,
    OPEN_CASE,
    SUBMIT,
    VIEWER,
    open_case_input,
    request_input,
)

CONTENT = b"%PDF-1.7\n" + bytes(range(256)) * 8


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The node command and the directory the script runs in."""
    command, modules = node_clients.install_clients()
    return command, node_clients.workdir(modules, tmp_path_factory.mktemp("node-clients"))


async def run(node: tuple[str, Path], world: World, step: str, **documents: Any) -> Any:
    """What clients.mjs's `step` returned, given the server, the tokens and `documents`."""
    command, directory = node
    world_input = {
        "url": world.url,
        "wsUrl": world.ws_url,
        "police": world.police,
        "platform": world.platform,
    }
    return await node_clients.run_script(
        command, directory, "clients.mjs", step, CASEHUB_INPUT=json.dumps(world_input | documents)
    )


async def test_graphql_request_runs_a_query(node: tuple[str, Path], world: World) -> None:
    seen = await run(node, world, "query", viewer=VIEWER, invalid="{ viewer { noSuchField } }")
    assert seen["viewer"]["viewer"]["agency"] == {"code": "MY-PDRM"}
    # A document that does not validate is thrown as graphql-request's ClientError.
    assert "noSuchField" in seen["invalid"]["errors"][0]["message"]


async def test_graphql_request_runs_a_mutation(node: tuple[str, Path], world: World) -> None:
    reference = f"NODE-{uuid.uuid4().hex[:8]}"
    seen = await run(
        node,
        world,
        "mutation",
        openCase={"query": OPEN_CASE, "variables": open_case_input(reference)},
        casesPage={"query": CASES_PAGE, "variables": {"first": 50}},
    )
    opened = seen["opened"]["openCase"]
    assert opened["errors"] == [], opened
    assert opened["case"]["reference"] == reference
    # A refusal arrives as the payload's errors, which the client returns as data.
    again = seen["again"]["openCase"]
    assert again["case"] is None
    assert [error["code"] for error in again["errors"]] == ["VALIDATION"], again
    assert "reference" in again["errors"][0]["message"]
    listed = [edge["node"] for edge in seen["page"]["cases"]["edges"]]
    assert [case["reference"] for case in listed].count(reference) == 1


async def test_graphql_ws_receives_another_agencys_request(
    node: tuple[str, Path], world: World
) -> None:
    seen = await run(
        node,
        world,
        "subscription",
        inbox=INBOX,
        create=CREATE,
        submit=SUBMIT,
        requests=[request_input(world.platform_id, f"Channel admin ({step})") for step in (1, 2)],
    )
    assert len(seen) == 2
    for step in seen:
        assert step["submitted"]["submitCooperationRequest"]["errors"] == []
        event = step["event"]
        assert event["requestId"] == step["requestId"]
        assert (event["action"], event["toStatus"]) == ("SUBMIT", "SUBMITTED"), event
        assert event["actorAgency"] == {"code": "MY-PDRM"}


async def test_apollo_upload_link_uploads_with_the_header(
    node: tuple[str, Path], world: World
) -> None:
    reference = f"APOLLO-{uuid.uuid4().hex[:8]}"
    opened = await run(
        node,
        world,
        "mutation",
        openCase={"query": OPEN_CASE, "variables": open_case_input(reference)},
        casesPage={"query": CASES_PAGE, "variables": {"first": 1}},
    )
    case_id = opened["opened"]["openCase"]["case"]["id"]
    seen = await run(
        node,
        world,
        "upload",
        addEvidence={"query": ADD_EVIDENCE, "variables": {"caseId": case_id}},
        contentBase64=base64.b64encode(CONTENT).decode(),
    )
    # Without the header: refused, the refusal naming the header to add.
    refused = seen["without"]
    assert refused["data"] is None
    assert refused["error"]["name"] == "CombinedGraphQLErrors", refused
    [error] = refused["error"]["errors"]
    assert error["extensions"]["code"] == "PREFLIGHT_REQUIRED"
    assert "`Apollo-Require-Preflight: true`" in error["message"]
    uploaded = seen["with"]
    assert uploaded["error"] is None, uploaded
    payload = uploaded["data"]["addEvidence"]
    assert payload["errors"] == [], payload
    assert payload["evidence"]["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    assert base64.b64decode(payload["evidence"]["contentBase64"]) == CONTENT
