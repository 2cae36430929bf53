"""Cooperation requests over the GraphQL API, shared by the request test modules.

`Requests` wraps the request mutations and reads around a `gql` call; the `req` fixture in
tests/api/conftest.py binds it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from casehub.domain.enums import AgencyKind

GraphQLCall = Callable[..., Awaitable[dict[str, Any]]]

# Each step: (mutation, input type, default input besides the id).
STEPS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "submit": ("submitCooperationRequest", "RequestStepInput", {}),
    "acknowledge": ("acknowledgeCooperationRequest", "RequestStepInput", {}),
    "accept": ("acceptCooperationRequest", "RequestStepInput", {}),
    "decline": ("declineCooperationRequest", "RequestReasonInput", {"reason": "Not our data"}),
    "fulfil": (
        "fulfilCooperationRequest",
        "FulfilCooperationRequestInput",
        {"outcome": "FULL", "message": "Data attached."},
    ),
    "withdraw": ("withdrawCooperationRequest", "RequestReasonInput", {"reason": "Case closed"}),
    "close": ("closeCooperationRequest", "RequestStepInput", {}),
}
REQUESTER, REQUESTED = "requester", "requested"

# How to bring a new draft to each state: (who, step, extra input).
PATHS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "DRAFT": [],
    "SUBMITTED": [(REQUESTER, "submit", {})],
    "ACKNOWLEDGED": [(REQUESTER, "submit", {}), (REQUESTED, "acknowledge", {})],
    "ACCEPTED": [(REQUESTER, "submit", {}), (REQUESTED, "accept", {})],
    "DECLINED": [(REQUESTER, "submit", {}), (REQUESTED, "decline", {})],
    "FULFILLED": [(REQUESTER, "submit", {}), (REQUESTED, "accept", {}), (REQUESTED, "fulfil", {})],
    "PARTIALLY_FULFILLED": [
        (REQUESTER, "submit", {}),
        (REQUESTED, "accept", {}),
        (REQUESTED, "fulfil", {"outcome": "PARTIAL"}),
    ],
    "WITHDRAWN": [(REQUESTER, "submit", {}), (REQUESTER, "withdraw", {})],
    "CLOSED": [(REQUESTER, "submit", {}), (REQUESTED, "decline", {}), (REQUESTER, "close", {})],
}

CREATE = """mutation($i: CreateCooperationRequestInput!) { createCooperationRequest(input: $i)
  { request { id status } errors { code field message } } }"""
MESSAGE = """mutation($i: AddCooperationMessageInput!) { addCooperationMessage(input: $i)
  { message { id body } errors { code field message } } }"""
# What a party sees of a request: its side, the linked case and the evidence.
READ = """query($id: ID!) { node(id: $id) { __typename ... on CooperationRequest {
  id status viewerSide isOverdue title body
  evidence { role evidenceId title description contentBase64 }
  case { id viewerAccess title summary } } } }"""
# What a refused mutation must leave as it was.
SNAPSHOT = """query($id: ID!) { node(id: $id) { ... on CooperationRequest {
  status version events { number action } messages { kind body } evidence { role } } } }"""
LIST = """query($f: CooperationRequestFilter) { cooperationRequests(filter: $f, first: 100) {
  totalCount edges { node { id status viewerSide isOverdue } } } }"""


def request_input(requested_id: str, **fields: Any) -> dict[str, Any]:
    """A CreateCooperationRequestInput: an information request unless `fields` say otherwise."""
    return {
        "requestedAgencyId": requested_id,
        "kind": "INFORMATION_REQUEST",
        "title": "Subscriber of the channel admin",
        "body": "Please tell us who registered the account.",
        **fields,
    }


async def three_agencies(world: Any) -> tuple[Any, Any, Any]:
    """A police force (requester), a platform (requested) and an outsider, all new."""
    police = await world.agency("POL", "MY")
    platform = await world.agency("PLT", "AE", AgencyKind.SERVICE_PROVIDER)
    outsider = await world.agency("OUT", "FR", AgencyKind.PROSECUTOR)
    return police, platform, outsider


class Requests:
    """Cooperation request operations over HTTP, returning their payloads."""

    def __init__(self, gql: GraphQLCall) -> None:
        self.gql = gql

    async def create(self, token: str, data: dict[str, Any]) -> dict[str, Any]:
        body = await self.gql(token, CREATE, {"i": data})
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["createCooperationRequest"]
        return payload

    async def draft(self, token: str, requested_id: str, **fields: Any) -> str:
        payload = await self.create(token, request_input(requested_id, **fields))
        assert payload["errors"] == [], payload
        request_id: str = payload["request"]["id"]
        return request_id

    async def step(self, token: str, step: str, request_id: str, **extra: Any) -> dict[str, Any]:
        name, input_type, defaults = STEPS[step]
        body = await self.gql(
            token,
            f"mutation($i: {input_type}!) {{ {name}(input: $i) "
            "{ request { id status } errors { code field message } } }",
            {"i": {"id": request_id, **defaults, **extra}},
        )
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"][name]
        return payload

    async def moved(self, token: str, step: str, request_id: str, **extra: Any) -> str:
        payload = await self.step(token, step, request_id, **extra)
        assert payload["errors"] == [], (step, payload)
        status: str = payload["request"]["status"]
        return status

    async def message(self, token: str, request_id: str, text: str) -> dict[str, Any]:
        body = await self.gql(token, MESSAGE, {"i": {"id": request_id, "body": text}})
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["addCooperationMessage"]
        return payload

    async def read(self, token: str, request_id: str) -> dict[str, Any] | None:
        """The request as `token` sees it (READ), or None where it does not exist for it."""
        body = await self.gql(token, READ, {"id": request_id})
        assert "errors" not in body, body
        node: dict[str, Any] | None = body["data"]["node"]
        return node

    async def snapshot(self, token: str, request_id: str) -> dict[str, Any]:
        """Status, version, events, messages and evidence roles (SNAPSHOT); it must exist."""
        body = await self.gql(token, SNAPSHOT, {"id": request_id})
        node: dict[str, Any] = body["data"]["node"]
        assert node is not None
        return node

    async def listed(self, token: str, **request_filter: Any) -> dict[str, str]:
        """The ids and statuses of the requests listed to `token` under `request_filter`."""
        body = await self.gql(token, LIST, {"f": request_filter or None})
        assert "errors" not in body, body
        connection = body["data"]["cooperationRequests"]
        assert connection["totalCount"] == len(connection["edges"]), connection
        return {edge["node"]["id"]: edge["node"]["status"] for edge in connection["edges"]}

    async def at(
        self, state: str, requester: Any, requested: Any, **fields: Any
    ) -> tuple[str, str]:
        """A new request brought to `state` along PATHS; (id, status reached)."""
        request_id = await self.draft(requester.token, requested.id, **fields)
        status = "DRAFT"
        tokens = {REQUESTER: requester.token, REQUESTED: requested.token}
        for who, step, extra in PATHS[state]:
            status = await self.moved(tokens[who], step, request_id, **extra)
        assert status == state
        return request_id, status
