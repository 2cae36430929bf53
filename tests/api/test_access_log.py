"""The access log of real requests: exactly one line per request or websocket connection, with
the request id of its x-request-id header, its caller, operation, outcome, status and duration;
never a token or a protected value in any line (JSON or text) the process logs meanwhile; and
the JSON formatter that production uses."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from sqlalchemy import text

from casehub.api.http.access_log import TEXT_FORMAT, JsonFormatter, configure_logging
from casehub.api.ids import parse_global_id
from casehub.app import create_app
from casehub.config import Environment, Settings
from casehub.services.runtime import Runtime
from tests.conftest import World

SUMMARY = "Ledger of the Golden Fish mule accounts, kept by Tan Boon Huat"
OTHER_SUMMARY = "Second ledger, seized in Johor Bahru"
NAME = "Siti Nurhaliza binti Ahmad"
PHONE = "+60 12-987 6543"
OPEN = """mutation Open($input: OpenCaseInput!) { openCase(input: $input) {
  case { id summary } errors { code } } }"""
SUBJECT = """mutation AddSubject($input: AddSubjectInput!) { addSubject(input: $input) {
  subject { id displayName } errors { code } } }"""
READ = "query Read($id: ID!) { node(id: $id) { ... on Case { summary } } }"
TIMING = {"time", "duration_ms"}


@asynccontextmanager
async def calling(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime.settings, runtime=runtime)
    transport = ASGIWebSocketTransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
        yield http


async def swap_summaries(runtime: Runtime, victim: str, donor: str) -> None:
    """Copy one case's ciphertext over another's: reading it fails (masked, logged)."""
    ids = [parse_global_id(global_id)[1] for global_id in (victim, donor)]
    if runtime.database.dialect == "sqlite":
        ids = [uuid.hex for uuid in ids]  # type: ignore[misc]
    async with runtime.database.engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE case_file SET summary = (SELECT summary FROM case_file WHERE id = :donor)"
                " WHERE id = :victim"
            ),
            {"victim": ids[0], "donor": ids[1]},
        )


async def test_one_access_line_per_request_and_no_secret_anywhere(
    runtime: Runtime, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    agency = await world.agency("LOG")
    bearer = {"Authorization": f"Bearer {agency.token}"}
    responses: list[httpx.Response] = []

    async def post(query: str, headers: dict[str, str] = bearer, **variables: Any) -> Any:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        responses.append(response)
        return response.json()

    async with calling(runtime) as http:
        case = (await post(OPEN, input=case_input("LOG-1", SUMMARY)))["data"]["openCase"]["case"]
        donor = (await post(OPEN, input=case_input("LOG-2", OTHER_SUMMARY)))["data"]["openCase"]
        subject = {
            "caseId": case["id"],
            "kind": "PERSON",
            "displayName": NAME,
            "identifiers": [{"kind": "PHONE", "value": PHONE}],
        }
        assert (await post(SUBJECT, input=subject))["data"]["addSubject"]["errors"] == []
        assert (await post(READ, id=case["id"]))["data"]["node"]["summary"] == SUMMARY
        # Refusals: a wrong token holding a protected value, a document with one inline.
        await post(READ, {"Authorization": f"Bearer chb_{NAME}"}, id=case["id"])
        await post(f'{{ nope(text: "{SUMMARY}") }}')
        await swap_summaries(runtime, case["id"], donor["case"]["id"])
        masked = await post(READ, id=case["id"])
        assert masked["errors"][0]["extensions"]["code"] == "INTERNAL", masked
        ws: AsyncWebSocketSession
        async with aconnect_ws(
            "http://casehub.test/graphql", http, subprotocols=["graphql-transport-ws"]
        ) as ws:
            await ws.send_json({"type": "connection_init", "payload": {"token": "chb_wrong"}})
            with pytest.raises(WebSocketDisconnect) as closed:
                await ws.receive_json(timeout=5)
        assert closed.value.code == 4401
        assert ws.response is not None
        socket_id = ws.response.headers["x-request-id"]

    formatter, plain = JsonFormatter(), logging.Formatter(TEXT_FORMAT)
    logged = "\n".join(
        formatter.format(record) + "\n" + plain.format(record) for record in caplog.records
    )
    for secret in (SUMMARY, OTHER_SUMMARY, NAME, PHONE, "987 6543", *agency.tokens.values()):
        assert secret not in logged, secret
    assert agency.token.split("_", 1)[1] not in logged

    access = [
        json.loads(formatter.format(record))
        for record in caplog.records
        if record.name == "casehub.access"
    ]
    # Exactly one line per request, under the id its answer carried.
    ids = [response.headers["x-request-id"] for response in responses]
    assert sorted(line["request_id"] for line in access) == sorted([*ids, socket_id])
    by_id = {line["request_id"]: line for line in access}
    opened = by_id[ids[0]]
    assert opened.keys() - TIMING == {
        "level",
        "logger",
        "message",
        "request_id",
        "transport",
        "method",
        "path",
        "status",
        "outcome",
        "operation",
        "agency",
        "principal",
    }
    assert {key: opened[key] for key in ("level", "logger", "transport", "method", "path")} == {
        "level": "INFO",
        "logger": "casehub.access",
        "transport": "http",
        "method": "POST",
        "path": "/graphql",
    }
    assert (opened["status"], opened["outcome"], opened["operation"]) == (200, "ok", "Open")
    assert opened["agency"] == agency.code
    assert opened["principal"] == await principal_of(runtime, agency.uuid)
    assert opened["duration_ms"] > 0
    outcomes = [(by_id[i]["status"], by_id[i]["outcome"], by_id[i]["operation"]) for i in ids]
    assert outcomes == [
        (200, "ok", "Open"),
        (200, "ok", "Open"),
        (200, "ok", "AddSubject"),
        (200, "ok", "Read"),
        (401, "UNAUTHENTICATED", "-"),
        (200, "GRAPHQL_VALIDATION_FAILED", "anonymous"),
        (200, "INTERNAL", "Read"),
    ]
    assert by_id[ids[4]]["agency"] is None
    assert (by_id[socket_id]["transport"], by_id[socket_id]["status"]) == ("websocket", 101)
    assert by_id[socket_id]["outcome"] == "4401"
    # The masked error's own line (with its traceback) names the same request.
    errors = [
        record
        for record in caplog.records
        if record.name == "casehub.api" and record.levelno == logging.ERROR
    ]
    assert [getattr(record, "request_id", None) for record in errors] == [ids[6]]
    assert errors[0].exc_info


async def principal_of(runtime: Runtime, agency_id: UUID) -> str:
    """The id of the principal behind the agency's all-roles token (World names it)."""
    async with runtime.database.engine.connect() as connection:
        found = await connection.execute(
            text("SELECT id FROM principal WHERE agency_id = :a AND name = 'agency-tool'"),
            {"a": agency_id.hex if runtime.database.dialect == "sqlite" else agency_id},
        )
        return str(UUID(str(found.scalar_one())))


def case_input(reference: str, summary: str) -> dict[str, str]:
    return {"reference": reference, "title": "T", "summary": summary, "category": "FRAUD"}


def test_json_lines_carry_extra_fields_and_tracebacks() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failure = sys.exc_info()
    record = logging.LogRecord(
        "casehub.api", logging.ERROR, __file__, 1, "failed %s", ("here",), exc_info=failure
    )
    record.request_id = "abc"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed here"
    assert (line["level"], line["logger"], line["request_id"]) == ("ERROR", "casehub.api", "abc")
    assert line["time"].endswith("+00:00")
    assert "ValueError: boom" in line["exception"]


@pytest.mark.parametrize(
    ("overrides", "formatter"),
    [
        ({}, JsonFormatter),
        ({"env": Environment.DEVELOPMENT}, logging.Formatter),
        ({"log_format": "json", "env": Environment.DEVELOPMENT}, JsonFormatter),
        ({"log_format": "text"}, logging.Formatter),
    ],
)
def test_the_log_format_follows_the_settings(
    monkeypatch: pytest.MonkeyPatch, overrides: dict[str, Any], formatter: type
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # a process that set nothing up
    monkeypatch.setattr(root, "level", logging.WARNING)
    configure_logging(Settings(log_level="DEBUG", **overrides))
    [handler] = root.handlers
    assert type(handler.formatter) is formatter
    assert root.level == logging.DEBUG
