"""/metrics over the real app: requests by operation and outcome with their latency, pool use,
open subscriptions and websockets, decryptions, hit checks, rate-limit refusals and failed
authentications, in a registry per app, with bounded labels that name no agency and hold no
token or plaintext; and CASEHUB_METRICS=false turns the route off."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from casehub.api.http.metrics import MAX_OPERATION_NAMES
from casehub.app import create_app
from casehub.domain.enums import Role
from casehub.persistence import Database
from casehub.services.agencies import auth
from casehub.services.runtime import Runtime, open_scope
from tests.api.conftest import Api
from tests.conftest import GraphQL, World

VIEWER = "query Viewer { viewer { name } }"
OPEN = """mutation Open($input: OpenCaseInput!) { openCase(input: $input) {
  case { id } errors { code } } }"""
SUMMARY = "query Summary($id: ID!) { node(id: $id) { ... on Case { summary } } }"
HIT_CHECK = """query Check($ids: [IdentifierInput!]!) { hitCheck(identifiers: $ids) {
  results { kind } errors { code } } }"""
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1
SECRET = "Payments routed through mule account 7781 at Bank Negara"


def tuned(runtime: Runtime, **overrides: Any) -> Runtime:
    """The test runtime with some settings changed."""
    return dataclasses.replace(runtime, settings=runtime.settings.model_copy(update=overrides))


def app_of(runtime: Runtime) -> Starlette:
    """A fresh app (fresh registry, rate limiters on a clock that never moves)."""
    return create_app(runtime.settings, runtime=runtime, monotonic=lambda: 1000.0)


@asynccontextmanager
async def calling(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
        yield http


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with calling(app_of(runtime)) as client:
        yield client


class Scrape:
    """One scrape of /metrics, parsed."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(body)
            for sample in family.samples
        }

    def __call__(self, name: str, **labels: str) -> float:
        """The sample's value; 0 when absent (a counter not yet incremented)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def labels(self, name: str, label: str) -> set[str]:
        """Every value the label takes in the samples of `name`."""
        return {
            dict(labels)[label]
            for sample_name, labels in self.samples
            if sample_name == name and label in dict(labels)
        }


async def scrape(http: httpx.AsyncClient) -> Scrape:
    response = await http.get("/metrics")  # no token
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert response.headers["cache-control"] == "no-store"
    return Scrape(response.text)


async def post(http: httpx.AsyncClient, token: str | None, query: str, **variables: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return response


async def test_requests_by_operation_and_outcome_with_their_latency(
    http: httpx.AsyncClient, world: World
) -> None:
    agency = await world.agency("MET")
    for _ in range(2):
        assert (await post(http, agency.token, VIEWER)).status_code == 200
    await post(http, agency.token, "{ viewer { name } }")
    await post(http, None, VIEWER)
    await post(http, agency.token, "query Deep { viewer { agency { name } } nope }")
    bad = await http.post(
        "/graphql",
        content=b"{",
        headers={"Authorization": f"Bearer {agency.token}", "content-type": "application/json"},
    )
    assert bad.status_code == 400
    metrics = await scrape(http)
    requests = "casehub_requests_total"
    assert metrics(requests, operation="Viewer", outcome="ok") == 2
    assert metrics(requests, operation="anonymous", outcome="ok") == 1
    # Refused at the gate, before the body was read.
    assert metrics(requests, operation="-", outcome="UNAUTHENTICATED") == 1
    assert metrics(requests, operation="Deep", outcome="GRAPHQL_VALIDATION_FAILED") == 1
    assert metrics(requests, operation="-", outcome="BAD_REQUEST") == 1
    assert metrics("casehub_request_duration_seconds_count", operation="Viewer") == 2
    assert metrics("casehub_request_duration_seconds_sum", operation="Viewer") > 0
    assert metrics("casehub_auth_failures_total", reason="missing") == 1


async def test_query_limit_refusals_are_counted(http: httpx.AsyncClient, world: World) -> None:
    agency = await world.agency("MET")
    deep = "query TooDeep { viewer { " + "agency { " * 12 + "name" + " }" * 12 + " } }"
    assert (await post(http, agency.token, deep)).json()["errors"]
    metrics = await scrape(http)
    assert metrics("casehub_requests_total", operation="TooDeep", outcome="LIMIT_EXCEEDED") == 1


async def test_an_unreachable_database_is_counted_as_service_unavailable(
    runtime: Runtime,
) -> None:
    # The database is gone: authentication cannot look the token up.
    broken = dataclasses.replace(runtime, database=Database(UNREACHABLE))
    try:
        async with calling(app_of(broken)) as http:
            assert (await post(http, "chb_" + "x" * 43, VIEWER)).status_code == 503
            metrics = await scrape(http)
    finally:
        await broken.database.dispose()
    assert metrics("casehub_requests_total", operation="-", outcome="SERVICE_UNAVAILABLE") == 1


async def test_a_failure_escaping_the_app_is_counted_as_internal(
    runtime: Runtime, tmp_path: Path
) -> None:
    # Not a database: authentication fails on it in a way nothing expects.
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database" * 1000)
    broken = dataclasses.replace(runtime, database=Database(f"sqlite+aiosqlite:///{garbage}"))
    try:
        async with calling(app_of(broken)) as http:
            response = await post(http, "chb_" + "x" * 43, VIEWER)
            metrics = await scrape(http)
    finally:
        await broken.database.dispose()
    assert response.status_code == 500
    assert response.json() == {
        "errors": [
            {
                "message": "Unexpected error.",
                "extensions": {"code": "INTERNAL", "requestId": response.headers["x-request-id"]},
            }
        ]
    }
    assert metrics("casehub_requests_total", operation="-", outcome="INTERNAL") == 1


async def test_operation_labels_are_bounded(runtime: Runtime, world: World) -> None:
    agency = await world.agency("MET")
    roomy = tuned(runtime, rate_limit_burst=1000)
    # Valid GraphQL names, but too long or not plain: "other", and no room taken.
    odd = ["x" * 65, "_hidden"]
    names = odd + [f"Op{n}" for n in range(MAX_OPERATION_NAMES + 5)]
    async with calling(app_of(roomy)) as http:
        for name in names:
            response = await post(http, agency.token, f"query {name} {{ __typename }}")
            assert response.status_code == 200, response.text
        # Said in operationName, but not in the document: refused before it ran.
        unknown = await http.post(
            "/graphql",
            json={"query": "{ __typename }", "operationName": "Nope"},
            headers={"Authorization": f"Bearer {agency.token}"},
        )
        assert unknown.status_code == 400
        metrics = await scrape(http)
    requests = "casehub_requests_total"
    first = names[len(odd) : len(odd) + MAX_OPERATION_NAMES]
    assert metrics.labels(requests, "operation") == {*first, "other", "-"}
    assert metrics(requests, operation="other", outcome="ok") == len(odd) + 5
    assert metrics(requests, operation="-", outcome="BAD_REQUEST") == 1


async def test_rate_limit_refusals_by_kind(runtime: Runtime, world: World) -> None:
    agency = await world.agency("MET")
    tight = tuned(runtime, rate_limit_burst=1, auth_failure_burst=1, hit_check_per_minute=1)
    async with calling(app_of(tight)) as http:
        ids = [{"kind": "PHONE", "value": f"+6012{secrets.randbelow(10**7):07d}"}] * 2
        refused = (await post(http, agency.tokens["LIAISON_OFFICER"], HIT_CHECK, ids=ids)).json()
        assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED", refused
        assert (await post(http, agency.token, VIEWER)).status_code == 200
        assert (await post(http, agency.token, VIEWER)).status_code == 429
        assert (await post(http, "chb_unknown", VIEWER)).status_code == 401
        assert (await post(http, "chb_unknown", VIEWER)).status_code == 429
        metrics = await scrape(http)
    assert metrics("casehub_rate_limited_total", kind="hit-check") == 1
    assert metrics("casehub_rate_limited_total", kind="token") == 1
    assert metrics("casehub_rate_limited_total", kind="auth-address") == 1
    assert metrics("casehub_hit_checks_total", outcome="RATE_LIMITED") == 1
    assert metrics("casehub_requests_total", operation="Check", outcome="RATE_LIMITED") == 1
    # Refused at the gate, before the body was read.
    assert metrics("casehub_requests_total", operation="-", outcome="RATE_LIMITED") == 2
    assert metrics("casehub_auth_failures_total", reason="invalid_token") == 1


async def test_failed_authentications_by_reason(
    http: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    """Unknown, revoked and expired tokens are one reason: /metrics (no token) must not tell
    whether a token string was ever issued. The audit chain keeps the precise reasons."""
    agency = await world.agency("MET")
    async with open_scope(runtime) as scope:
        _id, revoked = await auth.issue_token(scope, agency_code=agency.code, roles=[Role.READER])
        await auth.revoke_token(scope, token_or_id=revoked)
        _id, expiring = await auth.issue_token(
            scope,
            agency_code=agency.code,
            roles=[Role.READER],
            expires_at=scope.now + timedelta(milliseconds=300),
        )
    await asyncio.sleep(0.4)
    for header in (
        None,
        "Basic abc",
        "Bearer chb_nobody",
        f"Bearer {revoked}",
        f"Bearer {expiring}",
    ):
        headers = {"Authorization": header} if header else {}
        response = await http.post("/graphql", json={"query": VIEWER}, headers=headers)
        assert response.status_code == 401
    metrics = await scrape(http)
    assert metrics("casehub_auth_failures_total", reason="missing") == 1
    assert metrics("casehub_auth_failures_total", reason="malformed") == 1
    assert metrics("casehub_auth_failures_total", reason="invalid_token") == 3
    assert metrics.labels("casehub_auth_failures_total", "reason") == {
        "missing",
        "malformed",
        "invalid_token",
    }
    async with open_scope(runtime) as scope:
        chain = await scope.store.audit_log()
    reasons = [event.details for event in chain[-5:]]
    for reason in ("unknown", "revoked", "expired"):
        assert any(f'"{reason}"' in details for details in reasons), (reason, reasons)


async def test_decryptions_hit_checks_and_audit_events(
    http: httpx.AsyncClient, runtime: Runtime, world: World
) -> None:
    holder, asker = await world.agency("MET"), await world.agency("MET")
    api = Api(world, GraphQL(http))
    case = await api.open_case(holder.token, summary=SECRET)  # its payload decrypts the summary
    phone = f"+6012{secrets.randbelow(10**7):07d}"
    subject = await api.mutate(
        holder.token,
        "addSubject",
        {
            "caseId": case["id"],
            "kind": "PERSON",
            "displayName": "Lim Wei",
            "identifiers": [{"kind": "PHONE", "value": phone}],
        },
    )
    assert subject["errors"] == [], subject
    before = await scrape(http)
    body = (await post(http, holder.token, SUMMARY, id=case["id"])).json()
    assert body["data"]["node"]["summary"] == SECRET
    checker = asker.tokens["LIAISON_OFFICER"]
    other = f"+6012{secrets.randbelow(10**7):07d}"
    assert (await post(http, checker, HIT_CHECK, ids=[{"kind": "PHONE", "value": phone}])).json()[
        "data"
    ]["hitCheck"]["errors"] == []
    await post(http, checker, HIT_CHECK, ids=[{"kind": "PHONE", "value": other}])
    await post(http, checker, HIT_CHECK, ids=[])
    after = await scrape(http)
    decrypted = "casehub_field_decryptions_total"
    assert after(decrypted) - before(decrypted) == 1
    assert after("casehub_hit_checks_total", outcome="hit") == 1
    assert after("casehub_hit_checks_total", outcome="no_hit") == 1
    assert after("casehub_hit_checks_total", outcome="VALIDATION") == 1
    assert after("casehub_audit_events_total", action="case.open", outcome="OK") == 1
    assert after("casehub_audit_events_total", action="hit.check", outcome="VALIDATION") == 1
    # Nothing in the labels names an agency; no value, summary or token appears anywhere.
    for secret in (holder.code, asker.code, SECRET, phone, other, holder.token, checker):
        assert secret not in after.body


async def test_open_subscriptions_and_websockets(runtime: Runtime, world: World) -> None:
    agency = await world.agency("MET")
    transport = ASGIWebSocketTransport(app_of(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as client:
        ws: AsyncWebSocketSession
        async with aconnect_ws(
            "http://casehub.test/graphql", client, subprotocols=["graphql-transport-ws"]
        ) as ws:
            await ws.send_json({"type": "connection_init", "payload": {"token": agency.token}})
            assert await ws.receive_json(timeout=5) == {"type": "connection_ack"}
            subscription = "subscription { cooperationRequestEvents { seq } }"
            await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": subscription}})
            metrics = await until(client, "casehub_subscriptions_open", 1)
            assert metrics("casehub_websockets_open") == 1
            await ws.send_json({"id": "1", "type": "complete"})
            await until(client, "casehub_subscriptions_open", 0)
        await until(client, "casehub_websockets_open", 0)


async def until(http: httpx.AsyncClient, name: str, value: float) -> Scrape:
    """The first scrape in which the sample has this value (bounded wait)."""
    for _ in range(250):
        metrics = await scrape(http)
        if metrics(name) == value:
            return metrics
        await asyncio.sleep(0.02)
    raise AssertionError(f"{name} is still {metrics(name)}, not {value}")


async def test_pool_use(http: httpx.AsyncClient, runtime: Runtime) -> None:
    metrics = await scrape(http)
    size = 10 if runtime.database.dialect == "postgresql" else 5
    assert metrics("casehub_db_pool_size") == size
    assert 0 <= metrics("casehub_db_pool_checked_out") <= size


async def test_apps_keep_metrics_of_their_own(runtime: Runtime, world: World) -> None:
    agency = await world.agency("MET")
    async with calling(app_of(runtime)) as one, calling(app_of(runtime)) as other:
        await post(one, agency.token, VIEWER)
        served = {"operation": "Viewer", "outcome": "ok"}
        assert (await scrape(one))("casehub_requests_total", **served) == 1
        assert (await scrape(other))("casehub_requests_total", **served) == 0


async def test_metrics_can_be_turned_off(runtime: Runtime) -> None:
    async with calling(app_of(tuned(runtime, metrics=False))) as http:
        assert (await http.get("/metrics")).status_code == 404
