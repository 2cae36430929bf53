"""gql, the Python client agency tools are written with, unmodified against a live `casehub
serve`: a query and a mutation over HTTP, a file upload through each of its three HTTP
transports with the one header the schema names, and a subscription over graphql-transport-ws
authenticated either way the websocket accepts, receiving another agency's request."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import pytest
from gql import Client, FileVar, GraphQLRequest, gql
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.requests import RequestsHTTPTransport
from gql.transport.websockets import WebsocketsTransport
from graphql import GraphQLInputObjectType, GraphQLObjectType, build_schema, get_named_type

from casehub.api.schema import sdl
from tests.clients.live import World
from tests.clients.operations import (
    ADD_EVIDENCE,
    CASES_PAGE,
    CREATE,
    EVIDENCE_COUNT,
    INBOX,
    OPEN_CASE,
    SUBMIT,
    VIEWER,
    open_case_input,
    request_input,
)

# The one setting an agency tool adds for uploads, as the schema and the refusal name it.
UPLOAD_HEADER = {"Apollo-Require-Preflight": "true"}
CONTENT = b"%PDF-1.7\n" + bytes(range(256)) * 8
EVENT_SECONDS = 20


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client(world: World, token: str) -> Client:
    return Client(transport=AIOHTTPTransport(url=world.url, headers=bearer(token)))


async def open_case(world: World) -> str:
    """A new case of the police, opened through gql; its id."""
    async with client(world, world.police) as session:
        reference = f"GQL-{uuid.uuid4().hex[:8]}"
        result = await session.execute(
            GraphQLRequest(OPEN_CASE, variable_values=open_case_input(reference))
        )
    payload = result["openCase"]
    assert payload["errors"] == [], payload
    assert payload["case"]["reference"] == reference
    case_id: str = payload["case"]["id"]
    return case_id


async def test_a_query_over_http(world: World) -> None:
    async with client(world, world.police) as session:
        result = await session.execute(gql(VIEWER))
    assert result["viewer"]["agency"] == {"code": "MY-PDRM"}
    assert set(result["viewer"]["roles"]) == {"INVESTIGATOR", "LIAISON_OFFICER"}


async def test_a_mutation_over_http_and_the_page_that_lists_it(world: World) -> None:
    case_id = await open_case(world)
    transport = HTTPXAsyncTransport(url=world.url, headers=bearer(world.police))
    async with Client(transport=transport) as session:
        page = await session.execute(GraphQLRequest(CASES_PAGE, variable_values={"first": 50}))
    listed = [edge["node"]["id"] for edge in page["cases"]["edges"]]
    assert case_id in listed
    assert page["cases"]["totalCount"] == len(listed)


async def test_errors_come_back_as_gql_raises_them(world: World) -> None:
    async with client(world, world.police) as session:
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(gql("query { viewer { noSuchField } }"))
    assert refused.value.errors
    assert "noSuchField" in refused.value.errors[0]["message"]


def upload_request(case_id: str) -> GraphQLRequest:
    file = FileVar(io.BytesIO(CONTENT), filename="statement.pdf")
    return GraphQLRequest(ADD_EVIDENCE, variable_values={"caseId": case_id, "file": file})


def assert_uploaded(result: dict[str, Any]) -> None:
    payload = result["addEvidence"]
    assert payload["errors"] == [], payload
    evidence = payload["evidence"]
    assert evidence["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    assert evidence["sizeBytes"] == len(CONTENT)
    assert base64.b64decode(evidence["contentBase64"]) == CONTENT


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_upload_through_an_async_transport_with_the_header(
    world: World, transport: str
) -> None:
    case_id = await open_case(world)
    headers = {**bearer(world.police), **UPLOAD_HEADER}
    chosen = (
        AIOHTTPTransport(url=world.url, headers=headers)
        if transport == "aiohttp"
        else HTTPXAsyncTransport(url=world.url, headers=headers)
    )
    async with Client(transport=chosen) as session:
        assert_uploaded(await session.execute(upload_request(case_id), upload_files=True))


async def test_upload_through_the_requests_transport_with_the_header(world: World) -> None:
    case_id = await open_case(world)
    transport = RequestsHTTPTransport(
        url=world.url, headers={**bearer(world.police), **UPLOAD_HEADER}
    )

    def upload() -> dict[str, Any]:
        with Client(transport=transport) as session:
            result: dict[str, Any] = session.execute(upload_request(case_id), upload_files=True)
            return result

    assert_uploaded(await asyncio.to_thread(upload))


async def test_upload_without_the_header_is_refused_naming_it(world: World) -> None:
    case_id = await open_case(world)
    async with client(world, world.police) as session:
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(upload_request(case_id), upload_files=True)
        [error] = refused.value.errors or []
        assert error["extensions"]["code"] == "PREFLIGHT_REQUIRED"
        # What a developer reading the error needs: the header and a value, as the schema says.
        assert "`Apollo-Require-Preflight: true`" in error["message"]
        untouched = await session.execute(
            GraphQLRequest(EVIDENCE_COUNT, variable_values={"id": case_id})
        )
    assert untouched["node"]["evidence"] == []


def test_the_upload_header_is_named_on_every_upload_in_the_schema() -> None:
    """The scalar and every argument and input field of type Upload: where a client developer
    looks (production serves no introspection, so the schema is read as committed)."""
    schema = build_schema(sdl())
    described = {"Upload": schema.type_map["Upload"].description}
    for name, kind in schema.type_map.items():
        if isinstance(kind, GraphQLObjectType):
            for field_name, field in kind.fields.items():
                for argument_name, argument in field.args.items():
                    if get_named_type(argument.type).name == "Upload":
                        described[f"{name}.{field_name}({argument_name})"] = argument.description
        elif isinstance(kind, GraphQLInputObjectType):
            for field_name, input_field in kind.fields.items():
                if get_named_type(input_field.type).name == "Upload":
                    described[f"{name}.{field_name}"] = input_field.description
    assert "AddEvidenceInput.content" in described
    for where, description in described.items():
        assert "`Apollo-Require-Preflight: true`" in (description or ""), where


async def send_request(world: World, title: str) -> str:
    """The police create and submit a request to the platform over HTTP; its id."""
    async with client(world, world.police) as session:
        created = await session.execute(
            GraphQLRequest(CREATE, variable_values=request_input(world.platform_id, title))
        )
        request_id: str = created["createCooperationRequest"]["request"]["id"]
        submitted = await session.execute(
            GraphQLRequest(SUBMIT, variable_values={"id": request_id})
        )
    assert submitted["submitCooperationRequest"]["errors"] == [], submitted
    return request_id


async def event_of(events: AsyncGenerator[dict[str, Any], None], request_id: str) -> Any:
    """The next event of this request the subscription delivers (the others are skipped)."""
    async for result in events:
        event = result["cooperationRequestEvents"]
        if event["requestId"] == request_id:
            return event
    raise AssertionError(f"the subscription ended before an event of {request_id}")


@pytest.mark.parametrize("authenticated_by", ["connection_init", "upgrade_header"])
async def test_a_subscription_receives_another_agencys_request(
    world: World, authenticated_by: str
) -> None:
    if authenticated_by == "connection_init":
        transport = WebsocketsTransport(url=world.ws_url, init_payload={"token": world.platform})
    else:
        transport = WebsocketsTransport(url=world.ws_url, headers=bearer(world.platform))
    async with Client(transport=transport) as session:
        assert transport.subprotocol == "graphql-transport-ws"
        # Closed on leaving: an abandoned one would hold gql's close for its close_timeout.
        async with aclosing(session.subscribe(gql(INBOX))) as events:
            async with asyncio.timeout(EVENT_SECONDS):
                # The first request's event may come from the feed's history (the subscription
                # starts at `since: 0`); once it has come the subscription is live, and the
                # second one's is pushed as it commits.
                for step in ("first", "second"):
                    title = f"Channel admin ({authenticated_by}, {step})"
                    request_id = await send_request(world, title)
                    event = await event_of(events, request_id)
                    # The draft's CREATE went to the police alone: the platform's first
                    # event of the request is its SUBMIT.
                    assert (event["action"], event["toStatus"]) == ("SUBMIT", "SUBMITTED")
                    assert event["actorAgency"] == {"code": "MY-PDRM"}
