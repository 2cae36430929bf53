"""Persisted documents on /graphql: Apollo's automatic persisted queries (a hash alone, then
PERSISTED_QUERY_NOT_FOUND, then the retry with the text that registers it), GraphQL over
HTTP's documentId, CASEHUB_DOCUMENTS=registered, the registry's bounds, and bad input through
each path refused with a typed error, running nothing and writing nothing."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from casehub.config import DocumentsMode
from casehub.domain.documents import ManifestEntry, document_id
from casehub.persistence.tables import AuditEventRow
from casehub.services import documents
from casehub.services.documents import DocumentRegistry
from casehub.services.runtime import Runtime, open_scope
from tests.security.gate_support import bearer, serving, with_settings
from tests.support import nothing_written

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def viewer_query() -> str:
    """A document of its own (a comment makes its hash new), asking for the viewer."""
    return f"# {uuid.uuid4()}\nquery Viewer {{ viewer {{ name }} }}"


def open_case_mutation() -> str:
    return (
        f"# {uuid.uuid4()}\n"
        'mutation { openCase(input: {reference: "PD-1", title: "t", summary: "s", '
        "category: FRAUD}) { case { id } errors { code } } }"
    )


def apq(text: str) -> dict[str, Any]:
    """Apollo's extensions for a document."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def document_count(runtime: Runtime) -> int:
    async with open_scope(runtime) as scope:
        return await scope.store.count_documents()


@asynccontextmanager
async def unchanged(runtime: Runtime) -> AsyncIterator[None]:
    """No table (but the audit log) changes in the block, the registry included."""
    before = await document_count(runtime)
    async with nothing_written(runtime):
        yield
    assert await document_count(runtime) == before


async def registered_events(runtime: Runtime, wanted: str) -> list[dict[str, Any]]:
    async with open_scope(runtime) as scope:
        rows = await scope.store._all(
            select(AuditEventRow).where(AuditEventRow.action == "document.register")  # type: ignore[arg-type]
        )
    details = [json.loads(row.details) for row in rows]
    return [detail for detail in details if detail["id"] == wanted]


async def register(runtime: Runtime, text: str, name: str | None = None) -> str:
    """Register a document as `casehub documents add` does; its id."""
    wanted = document_id(text)
    await documents.add_manifest(runtime, [ManifestEntry(wanted, name, text)])
    return wanted


def refusal(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, body
    assert "data" not in body or body["data"] is None, body
    return body


@pytest.fixture
async def token(world: Any) -> str:
    value: str = (await world.agency("PDQ")).token
    return value


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(runtime) as client:
        yield client


# Apollo's automatic persisted queries


async def test_apq_miss_then_register_then_hit(
    http: httpx.AsyncClient, runtime: Runtime, token: str
) -> None:
    text = viewer_query()
    hashed = {"extensions": apq(text), "operationName": "Viewer"}
    async with unchanged(runtime):
        miss = await http.post("/graphql", json=hashed, headers=bearer(token))
    body = refusal(miss, 200, "PERSISTED_QUERY_NOT_FOUND")
    assert body["errors"][0]["message"] == "PersistedQueryNotFound"
    assert miss.headers["content-type"].startswith(JSON)

    before = await document_count(runtime)
    retry = await http.post("/graphql", json={**hashed, "query": text}, headers=bearer(token))
    assert retry.status_code == 200, retry.text
    assert retry.json()["data"]["viewer"]["name"]
    assert await document_count(runtime) == before + 1
    wanted = document_id(text)
    assert [event["source"] for event in await registered_events(runtime, wanted)] == ["apq"]

    hit = await http.post("/graphql", json=hashed, headers=bearer(token))
    assert hit.status_code == 200, hit.text
    assert hit.json()["data"]["viewer"]["name"]
    again = await http.post("/graphql", json={**hashed, "query": text}, headers=bearer(token))
    assert again.status_code == 200
    assert await document_count(runtime) == before + 1  # registered once


async def test_apq_miss_is_400_under_graphql_response_json(
    http: httpx.AsyncClient, runtime: Runtime, token: str
) -> None:
    async with unchanged(runtime):
        response = await http.post(
            "/graphql",
            json={"extensions": apq(viewer_query())},
            headers={**bearer(token), "Accept": GRAPHQL_RESPONSE},
        )
    refusal(response, 400, "PERSISTED_QUERY_NOT_FOUND")
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)


async def test_a_hash_that_is_not_the_texts_runs_and_stores_nothing(
    http: httpx.AsyncClient, runtime: Runtime, token: str
) -> None:
    async with unchanged(runtime):
        response = await http.post(
            "/graphql",
            json={"query": open_case_mutation(), "extensions": apq(viewer_query())},
            headers=bearer(token),
        )
    refusal(response, 400, "PERSISTED_QUERY_HASH_MISMATCH")


async def test_a_document_that_does_not_validate_is_not_registered(
    http: httpx.AsyncClient, runtime: Runtime, token: str
) -> None:
    text = f"# {uuid.uuid4()}\n{{ viewer {{ nosuchfield }} }}"
    async with unchanged(runtime):
        response = await http.post(
            "/graphql", json={"query": text, "extensions": apq(text)}, headers=bearer(token)
        )
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


MALFORMED = {
    "not an object": "abc",
    "a list": [1],
    "no version": {"sha256Hash": "a" * 64},
    "version 2": {"version": 2, "sha256Hash": "a" * 64},
    "version as text": {"version": "1", "sha256Hash": "a" * 64},
    "version true": {"version": True, "sha256Hash": "a" * 64},
    "no hash": {"version": 1},
    "hash too short": {"version": 1, "sha256Hash": "a" * 63},
    "hash not hex": {"version": 1, "sha256Hash": "g" * 64},
    "hash a number": {"version": 1, "sha256Hash": 12},
    "hash prefixed": {"version": 1, "sha256Hash": "sha256:" + "a" * 64},
}


@pytest.mark.parametrize("persisted", list(MALFORMED.values()), ids=list(MALFORMED))
async def test_a_malformed_persisted_query_is_refused(
    http: httpx.AsyncClient, runtime: Runtime, token: str, persisted: object
) -> None:
    async with unchanged(runtime):
        response = await http.post(
            "/graphql",
            json={"query": open_case_mutation(), "extensions": {"persistedQuery": persisted}},
            headers=bearer(token),
        )
    refusal(response, 400, "PERSISTED_QUERY_INVALID")


# documentId (GraphQL over HTTP)


async def test_document_id_runs_the_registered_text_in_either_spelling(
    http: httpx.AsyncClient, runtime: Runtime, token: str
) -> None:
    wanted = await register(runtime, viewer_query(), "Viewer")
    for spelling in (
        wanted,
        wanted.removeprefix("sha256:"),
        wanted.upper().replace("SHA256", "sha256"),
    ):
        response = await http.post("/graphql", json={"documentId": spelling}, headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.json()["data"]["viewer"]["name"]


async def test_document_id_takes_variables(
    http: httpx.AsyncClient, runtime: Runtime, token: str, world: Any
) -> None:
    agency = await world.agency("PDV")
    text = f"# {uuid.uuid4()}\nquery($id: ID!) {{ node(id: $id) {{ id }} }}"
    wanted = await register(runtime, text)
    response = await http.post(
        "/graphql",
        json={"documentId": wanted, "variables": {"id": agency.id}},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["node"] == {"id": agency.id}


BAD_IDS = {
    "unknown": ({"documentId": "sha256:" + "0" * 64}, "DOCUMENT_NOT_FOUND"),
    "not a hash": ({"documentId": "abc"}, "DOCUMENT_ID_INVALID"),
    "a number": ({"documentId": 7}, "DOCUMENT_ID_INVALID"),
    "md5": ({"documentId": "md5:" + "0" * 32}, "DOCUMENT_ID_INVALID"),
    "with a query": (
        {"documentId": "sha256:" + "0" * 64, "query": "{ viewer { name } }"},
        "DOCUMENT_ID_INVALID",
    ),
    "with a persistedQuery": (
        {"documentId": "sha256:" + "0" * 64, "extensions": apq("{ viewer { name } }")},
        "DOCUMENT_ID_INVALID",
    ),
}


@pytest.mark.parametrize(("body", "code"), list(BAD_IDS.values()), ids=list(BAD_IDS))
async def test_a_bad_document_id_is_refused(
    http: httpx.AsyncClient, runtime: Runtime, token: str, body: dict[str, Any], code: str
) -> None:
    async with unchanged(runtime):
        response = await http.post("/graphql", json=body, headers=bearer(token))
    refusal(response, 400, code)


async def test_a_registered_document_checks_access_as_its_text_would(
    runtime: Runtime, world: Any, http: httpx.AsyncClient
) -> None:
    owner, other = await world.agency("PDO"), await world.agency("PDF")
    opened = await http.post(
        "/graphql", json={"query": open_case_mutation()}, headers=bearer(owner.token)
    )
    case_id = opened.json()["data"]["openCase"]["case"]["id"]
    text = f"# {uuid.uuid4()}\nquery($id: ID!) {{ node(id: $id) {{ id }} }}"
    wanted = await register(runtime, text)
    by_id = {"documentId": wanted, "variables": {"id": case_id}}
    as_text = {"query": text, "variables": {"id": case_id}}
    seen = await http.post("/graphql", json=by_id, headers=bearer(owner.token))
    assert seen.json()["data"]["node"] == {"id": case_id}
    for body in (by_id, as_text):
        foreign = await http.post("/graphql", json=body, headers=bearer(other.token))
        assert foreign.json()["data"]["node"] is None, foreign.text


async def test_without_a_token_nothing_is_looked_up(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"documentId": "sha256:" + "0" * 64})
    refusal(response, 401, "UNAUTHENTICATED")


# GET (Apollo's useGETForHashedQueries)


async def test_get_serves_hashed_queries_and_document_ids(runtime: Runtime, token: str) -> None:
    text = viewer_query()
    extensions = json.dumps(apq(text))
    async with serving(with_settings(runtime, allow_get_queries=True)) as http:
        async with unchanged(runtime):
            miss = await http.get(
                "/graphql", params={"extensions": extensions}, headers=bearer(token)
            )
        refusal(miss, 200, "PERSISTED_QUERY_NOT_FOUND")
        retry = await http.post(
            "/graphql", json={"query": text, "extensions": apq(text)}, headers=bearer(token)
        )
        assert retry.status_code == 200, retry.text
        hit = await http.get("/graphql", params={"extensions": extensions}, headers=bearer(token))
        assert hit.status_code == 200, hit.text
        assert hit.json()["data"]["viewer"]["name"]
        by_id = await http.get(
            "/graphql", params={"documentId": document_id(text)}, headers=bearer(token)
        )
        assert by_id.json()["data"]["viewer"]["name"], by_id.text
        malformed = await http.get(
            "/graphql",
            params={"extensions": json.dumps({"persistedQuery": {"version": 1}})},
            headers=bearer(token),
        )
        refusal(malformed, 400, "PERSISTED_QUERY_INVALID")


async def test_a_mutation_registered_runs_over_post_only(runtime: Runtime, token: str) -> None:
    wanted = await register(runtime, open_case_mutation())
    get_on = with_settings(runtime, allow_get_queries=True)
    async with serving(get_on) as http, unchanged(runtime):
        response = await http.get("/graphql", params={"documentId": wanted}, headers=bearer(token))
    assert response.status_code == 405, response.text


# CASEHUB_DOCUMENTS=registered


@pytest.fixture
async def registered_only(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(with_settings(runtime, documents=DocumentsMode.REGISTERED)) as client:
        yield client


async def test_registered_only_refuses_text_it_does_not_know(
    registered_only: httpx.AsyncClient, runtime: Runtime, token: str
) -> None:
    for text in (viewer_query(), open_case_mutation()):
        async with unchanged(runtime):
            response = await registered_only.post(
                "/graphql", json={"query": text}, headers=bearer(token)
            )
        refusal(response, 400, "DOCUMENT_NOT_REGISTERED")


async def test_registered_only_refuses_to_register_by_apq(
    registered_only: httpx.AsyncClient, runtime: Runtime, token: str
) -> None:
    text = viewer_query()
    async with unchanged(runtime):
        miss = await registered_only.post(
            "/graphql", json={"extensions": apq(text)}, headers=bearer(token)
        )
        retry = await registered_only.post(
            "/graphql", json={"query": text, "extensions": apq(text)}, headers=bearer(token)
        )
    refusal(miss, 200, "PERSISTED_QUERY_NOT_FOUND")
    refusal(retry, 400, "DOCUMENT_NOT_REGISTERED")


async def test_registered_only_runs_registered_documents_every_way(
    registered_only: httpx.AsyncClient, runtime: Runtime, token: str
) -> None:
    text = viewer_query()
    wanted = await register(runtime, text, "Viewer")
    for body in (
        {"documentId": wanted},
        {"query": text},
        {"extensions": apq(text)},
        {"query": text, "extensions": apq(text)},
    ):
        response = await registered_only.post("/graphql", json=body, headers=bearer(token))
        assert response.status_code == 200, (body, response.text)
        assert response.json()["data"]["viewer"]["name"]


# Bounds


async def test_a_full_registry_runs_the_retry_but_stores_nothing(
    runtime: Runtime, token: str
) -> None:
    await register(runtime, viewer_query())  # at least one: the registry is full
    full = with_settings(runtime, max_registered_documents=await document_count(runtime))
    text = viewer_query()
    async with serving(full) as http, unchanged(runtime):
        response = await http.post(
            "/graphql", json={"query": text, "extensions": apq(text)}, headers=bearer(token)
        )
    assert response.json()["data"]["viewer"]["name"], response.text


async def test_apq_registrations_are_rate_limited_per_token(runtime: Runtime, token: str) -> None:
    first, second = viewer_query(), viewer_query()
    before = await document_count(runtime)
    async with serving(with_settings(runtime, apq_registrations_per_minute=1)) as http:
        for text in (first, second):
            response = await http.post(
                "/graphql", json={"query": text, "extensions": apq(text)}, headers=bearer(token)
            )
            assert response.json()["data"]["viewer"]["name"], response.text
    assert await document_count(runtime) == before + 1


async def test_an_oversized_document_is_not_registered(
    http: httpx.AsyncClient, runtime: Runtime, token: str
) -> None:
    text = "# " + "x" * 200_000 + "\n{ viewer { name } }"
    async with unchanged(runtime):
        response = await http.post(
            "/graphql", json={"query": text, "extensions": apq(text)}, headers=bearer(token)
        )
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


# The registry's API (what compiled plans build on)


async def test_the_registry_looks_up_parses_once_and_iterates(runtime: Runtime) -> None:
    text = viewer_query()
    wanted = await register(runtime, text, "Viewer")
    registry = DocumentRegistry(runtime)
    found = await registry.get(wanted)
    assert found is not None
    assert (found.id, found.text, found.name, found.source) == (wanted, text, "Viewer", "manifest")
    assert registry.parsed(found) is registry.parsed(found)
    assert await registry.get("sha256:" + "1" * 64) is None
    assert wanted in [document.id async for document in registry.documents()]
    assert await documents.remove(runtime, wanted)
    assert await DocumentRegistry(runtime).get(wanted) is None


# The websocket (graphql-transport-ws): the same names, the same registered-only rule


async def subscribe(ops: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The answer to one `subscribe` with this payload: `next` (then `complete`) or `error`."""
    op_id = str(next(ops.ids))
    await ops.ws.send_json({"id": op_id, "type": "subscribe", "payload": payload})
    answer: dict[str, Any] = await ops.ws.receive_json(timeout=5)
    assert answer["id"] == op_id, answer
    if answer["type"] == "next":
        assert (await ops.ws.receive_json(timeout=5))["type"] == "complete"
    return answer


async def test_the_websocket_runs_registered_documents_and_holds_registered_only(
    runtime: Runtime, token: str
) -> None:
    from tests.api.test_websocket_operations import operations
    from tests.security.gate_support import app_of

    text = viewer_query()
    wanted = await register(runtime, text)
    unknown = viewer_query()
    app = app_of(with_settings(runtime, documents=DocumentsMode.REGISTERED))
    async with operations(app, token) as ops:
        for payload in ({"documentId": wanted}, {"query": text}, {"extensions": apq(text)}):
            answer = await subscribe(ops, payload)
            assert answer["type"] == "next", answer
            assert answer["payload"]["data"]["viewer"]["name"]
        async with unchanged(runtime):
            refused = [
                await subscribe(ops, {"query": unknown}),
                await subscribe(ops, {"documentId": "sha256:" + "0" * 64}),
                await subscribe(ops, {"query": unknown, "extensions": {"persistedQuery": 1}}),
            ]
    codes = [answer["payload"][0]["extensions"]["code"] for answer in refused]
    assert codes == ["DOCUMENT_NOT_REGISTERED", "DOCUMENT_NOT_FOUND", "PERSISTED_QUERY_INVALID"]


# A real client: Apollo Client's persisted-query link, unmodified


@pytest.mark.parametrize("use_get", [False, True], ids=["post", "get for hashed queries"])
async def test_apollo_clients_persisted_query_link_works_unmodified(
    runtime: Runtime, token: str, use_get: bool
) -> None:
    from tests.api import apollo_apq, graphql_http_audit

    node, modules = apollo_apq.install()
    # Apollo prints the document it sends; a fresh operation name gives a fresh hash.
    query = f"query Viewer{uuid.uuid4().hex} {{ viewer {{ name }} }}"
    before = await document_count(runtime)
    async with graphql_http_audit.live(with_settings(runtime, allow_get_queries=use_get)) as url:
        seen = await apollo_apq.run_link(node, modules, url, token, query, use_get)
    assert seen["first"]["error"] is None, seen
    assert seen["first"]["data"]["viewer"]["name"], seen
    miss, retry = seen["firstExchanges"]
    assert (miss["withQuery"], miss["withHash"], miss["code"]) == (
        False,
        True,
        "PERSISTED_QUERY_NOT_FOUND",
    ), seen
    assert (retry["withQuery"], retry["withHash"], retry["status"]) == (True, True, 200), seen
    assert miss["method"] == ("GET" if use_get else "POST"), seen
    [hit] = seen["secondExchanges"]
    assert (hit["withQuery"], hit["status"], hit["code"]) == (False, 200, None), seen
    assert seen["second"]["data"] == seen["first"]["data"]
    assert await document_count(runtime) == before + 1
