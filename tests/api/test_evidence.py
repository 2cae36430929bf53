"""Evidence through the API: content in JSON (base64) and in multipart uploads, digests,
HASH_ONLY items, grading, and the chain of custody. Bad input is refused with a typed error
and writes nothing."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from casehub.services.runtime import Runtime
from tests.support import nothing_written, row_counts

LIMIT = 64 * 1024  # max_evidence_bytes of the test settings

EVIDENCE_FIELDS = """
id kind title sha256 sizeBytes mediaType collectedAt sourceReliability informationAccuracy
handlingCode viewerAccess description contentBase64
custody { action note occurredAt recordedAt actorAgency { code } }
"""
ADD = f"""
mutation($input: AddEvidenceInput!) {{
  addEvidence(input: $input) {{ evidence {{ {EVIDENCE_FIELDS} }} errors {{ code field message }} }}
}}
"""
CUSTODY = """
mutation($input: RecordCustodyEventInput!) {
  recordCustodyEvent(input: $input) {
    custodyEvent { id action note occurredAt actorAgency { code } }
    errors { code field message }
  }
}
"""
READ = f"query($id: ID!) {{ node(id: $id) {{ ... on Evidence {{ {EVIDENCE_FIELDS} }} }} }}"
UPLOAD = (
    "mutation($f: Upload!, $c: ID!) { addEvidence(input: {caseId: $c, kind: DOCUMENT, "
    'title: "t", content: $f}) { evidence { id sha256 sizeBytes contentBase64 } '
    "errors { code field message } } }"
)


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def iso(delta: timedelta) -> str:
    """An ISO-8601 UTC instant this far from now."""
    return (datetime.now(UTC) + delta).isoformat()


def assert_refused(payload: dict[str, Any], code: str, field: list[str]) -> dict[str, Any]:
    """Exactly one error of this code on this field, and no object; returns the error."""
    assert len(payload["errors"]) == 1, payload
    error: dict[str, Any] = payload["errors"][0]
    assert error["code"] == code, payload
    assert error["field"] == field, payload
    assert error["message"], payload
    assert all(value is None for key, value in payload.items() if key != "errors"), payload
    return error


@dataclass
class Owner:
    """An agency with a case of its own."""

    token: str
    code: str
    case_id: str


@pytest.fixture
async def owner(world: Any, gql: Any) -> Owner:
    agency = await world.agency("EV")
    body = await gql(
        agency.token,
        "mutation($input: OpenCaseInput!) { openCase(input: $input) "
        "{ case { id } errors { code field message } } }",
        {
            "input": {
                "reference": "EV-1",
                "title": "Op Evidence",
                "summary": "s",
                "category": "INVESTMENT_SCAM",
            }
        },
    )
    assert body["data"]["openCase"]["errors"] == [], body
    return Owner(agency.token, agency.code, body["data"]["openCase"]["case"]["id"])


async def add(gql: Any, owner: Owner, **fields: Any) -> dict[str, Any]:
    """addEvidence on the owner's case; returns the payload."""
    data = {"caseId": owner.case_id, "kind": "DOCUMENT", "title": "Bank statement", **fields}
    body = await gql(owner.token, ADD, {"input": data})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["addEvidence"]
    return payload


async def added(gql: Any, owner: Owner, **fields: Any) -> dict[str, Any]:
    """addEvidence that must succeed; returns the evidence."""
    payload = await add(gql, owner, **fields)
    assert payload["errors"] == [], payload
    evidence: dict[str, Any] = payload["evidence"]
    return evidence


async def read(gql: Any, token: str, evidence_id: str) -> dict[str, Any]:
    body = await gql(token, READ, {"id": evidence_id})
    assert "errors" not in body, body
    node: dict[str, Any] = body["data"]["node"]
    return node


async def record(gql: Any, owner: Owner, **fields: Any) -> dict[str, Any]:
    body = await gql(owner.token, CUSTODY, {"input": fields})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["recordCustodyEvent"]
    return payload


# Content as base64 in JSON


async def test_content_round_trips_and_server_computes_digest(gql: Any, owner: Owner) -> None:
    content = bytes(range(256)) * 40 + b"\x00\xff tail"
    evidence = await added(
        gql,
        owner,
        contentBase64=b64(content),
        mediaType="application/octet-stream",
        description="Statement\nfrom the bank",
        sourceReliability="B",
        informationAccuracy=2,
        handlingCode="H2",
    )
    assert evidence["sha256"] == hashlib.sha256(content).hexdigest()
    assert evidence["sizeBytes"] == len(content)
    assert evidence["contentBase64"] == b64(content)
    assert evidence["viewerAccess"] == "OWNER"
    again = await read(gql, owner.token, evidence["id"])
    assert base64.b64decode(again["contentBase64"]) == content
    assert again["sha256"] == sha256(content)
    assert again["sizeBytes"] == len(content)
    assert again["description"] == "Statement\nfrom the bank"
    assert (again["sourceReliability"], again["informationAccuracy"]) == ("B", 2)
    assert again["handlingCode"] == "H2"
    assert again["mediaType"] == "application/octet-stream"


async def test_matching_sha256_and_size_are_accepted(gql: Any, owner: Owner) -> None:
    content = b"chat export"
    evidence = await added(
        gql, owner, contentBase64=b64(content), sha256=sha256(content), sizeBytes=len(content)
    )
    assert (evidence["sha256"], evidence["sizeBytes"]) == (sha256(content), len(content))


async def test_empty_content_is_stored_with_the_empty_digest(gql: Any, owner: Owner) -> None:
    evidence = await added(gql, owner, contentBase64="")
    assert evidence["sha256"] == sha256(b"")
    assert evidence["sizeBytes"] == 0


async def test_content_of_exactly_the_limit_is_accepted(gql: Any, owner: Owner) -> None:
    content = b"\xab" * LIMIT
    evidence = await added(gql, owner, contentBase64=b64(content))
    assert evidence["sizeBytes"] == LIMIT
    assert evidence["sha256"] == sha256(content)


@pytest.mark.parametrize("value", ["!!!", "abc", "aGVsbG8", "aGVs bG8=", "aGVsbG8=\x00", "é"])
async def test_invalid_base64_is_validation(
    gql: Any, owner: Owner, runtime: Runtime, value: str
) -> None:
    async with nothing_written(runtime):
        payload = await add(gql, owner, contentBase64=value)
    assert_refused(payload, "VALIDATION", ["contentBase64"])


@pytest.mark.parametrize("size", [LIMIT + 1, 2 * LIMIT])
async def test_content_over_the_limit_is_validation(
    gql: Any, owner: Owner, runtime: Runtime, size: int
) -> None:
    async with nothing_written(runtime):
        payload = await add(gql, owner, contentBase64=b64(b"\x01" * size))
    error = assert_refused(payload, "VALIDATION", ["contentBase64"])
    assert str(LIMIT) in error["message"].replace(",", "")


@pytest.mark.parametrize(
    "given",
    [
        sha256(b"something else"),
        sha256(b"chat export").upper(),
        "0" * 64,
        "not a digest",
    ],
)
async def test_sha256_not_matching_content_is_validation(
    gql: Any, owner: Owner, runtime: Runtime, given: str
) -> None:
    async with nothing_written(runtime):
        payload = await add(gql, owner, contentBase64=b64(b"chat export"), sha256=given)
    assert_refused(payload, "VALIDATION", ["sha256"])


async def test_size_not_matching_content_is_validation(
    gql: Any, owner: Owner, runtime: Runtime
) -> None:
    async with nothing_written(runtime):
        payload = await add(gql, owner, contentBase64=b64(b"chat export"), sizeBytes=3)
    assert_refused(payload, "VALIDATION", ["sizeBytes"])


# HASH_ONLY and items kept elsewhere


async def test_hash_only_keeps_the_digest_and_no_content(gql: Any, owner: Owner) -> None:
    digest = sha256(b"abuse image kept by the platform")
    evidence = await added(gql, owner, kind="HASH_ONLY", sha256=digest, sizeBytes=123_456)
    assert evidence["kind"] == "HASH_ONLY"
    assert evidence["sha256"] == digest
    assert evidence["sizeBytes"] == 123_456
    assert evidence["contentBase64"] is None
    again = await read(gql, owner.token, evidence["id"])
    assert again["contentBase64"] is None
    assert again["sha256"] == digest


async def test_hash_only_with_content_is_validation(
    gql: Any, owner: Owner, runtime: Runtime
) -> None:
    content = b"must never reach the hub"
    async with nothing_written(runtime):
        payload = await add(
            gql, owner, kind="HASH_ONLY", contentBase64=b64(content), sha256=sha256(content)
        )
    assert_refused(payload, "VALIDATION", ["contentBase64"])


@pytest.mark.parametrize("kind", ["HASH_ONLY", "DOCUMENT"])
async def test_no_content_and_no_sha256_is_validation(
    gql: Any, owner: Owner, runtime: Runtime, kind: str
) -> None:
    async with nothing_written(runtime):
        payload = await add(gql, owner, kind=kind)
    assert_refused(payload, "VALIDATION", ["sha256"])


@pytest.mark.parametrize(
    "given",
    [
        "",
        "abc",
        "g" * 64,
        sha256(b"x").upper(),
        sha256(b"x")[:63],
        sha256(b"x") + "0",
        " " + sha256(b"x")[1:],
        "sha256:" + sha256(b"x"),
    ],
)
async def test_invalid_sha256_format_is_validation(
    gql: Any, owner: Owner, runtime: Runtime, given: str
) -> None:
    async with nothing_written(runtime):
        payload = await add(gql, owner, kind="HASH_ONLY", sha256=given)
    assert_refused(payload, "VALIDATION", ["sha256"])


async def test_negative_size_is_validation(gql: Any, owner: Owner, runtime: Runtime) -> None:
    async with nothing_written(runtime):
        payload = await add(gql, owner, kind="HASH_ONLY", sha256=sha256(b"x"), sizeBytes=-1)
    assert_refused(payload, "VALIDATION", ["sizeBytes"])


# Other fields


@pytest.mark.parametrize("accuracy", [0, 5, -1, 100])
async def test_information_accuracy_out_of_range_is_validation(
    gql: Any, owner: Owner, runtime: Runtime, accuracy: int
) -> None:
    async with nothing_written(runtime):
        payload = await add(gql, owner, contentBase64=b64(b"x"), informationAccuracy=accuracy)
    assert_refused(payload, "VALIDATION", ["informationAccuracy"])


@pytest.mark.parametrize("accuracy", [1, 4])
async def test_information_accuracy_bounds_are_accepted(
    gql: Any, owner: Owner, accuracy: int
) -> None:
    evidence = await added(gql, owner, contentBase64=b64(b"x"), informationAccuracy=accuracy)
    assert evidence["informationAccuracy"] == accuracy


async def test_collected_at_in_the_future_is_validation(
    gql: Any, owner: Owner, runtime: Runtime
) -> None:
    async with nothing_written(runtime):
        payload = await add(gql, owner, contentBase64=b64(b"x"), collectedAt=iso(timedelta(days=1)))
    assert_refused(payload, "VALIDATION", ["collectedAt"])


async def test_collected_at_in_the_past_is_kept_in_utc(gql: Any, owner: Owner) -> None:
    evidence = await added(
        gql, owner, contentBase64=b64(b"x"), collectedAt="2024-03-01T08:30:00+08:00"
    )
    again = await read(gql, owner.token, evidence["id"])
    # DateTime is ISO-8601 UTC (DESIGN §4), in the payload as on every later read.
    for seen in (evidence["collectedAt"], again["collectedAt"]):
        assert datetime.fromisoformat(seen) == datetime(2024, 3, 1, 0, 30, tzinfo=UTC)
        assert datetime.fromisoformat(seen).utcoffset() == timedelta(0), seen


async def test_custody_occurred_at_is_kept_in_utc(gql: Any, owner: Owner) -> None:
    evidence = await added(gql, owner, contentBase64=b64(b"x"))
    payload = await record(
        gql,
        owner,
        evidenceId=evidence["id"],
        action="SEALED",
        occurredAt="2024-03-01T08:30:00+08:00",
    )
    assert payload["errors"] == [], payload
    again = await read(gql, owner.token, evidence["id"])
    for seen in (payload["custodyEvent"]["occurredAt"], again["custody"][1]["occurredAt"]):
        assert datetime.fromisoformat(seen) == datetime(2024, 3, 1, 0, 30, tzinfo=UTC)
        assert datetime.fromisoformat(seen).utcoffset() == timedelta(0), seen


async def test_collected_at_without_timezone_is_not_an_internal_error(
    gql: Any, owner: Owner, runtime: Runtime
) -> None:
    """A naive timestamp is either refused as VALIDATION or taken as UTC, never a crash."""
    before = await row_counts(runtime)
    body = await gql(
        owner.token,
        ADD,
        {
            "input": {
                "caseId": owner.case_id,
                "kind": "DOCUMENT",
                "title": "t",
                "contentBase64": b64(b"x"),
                "collectedAt": "2024-03-01T00:30:00",
            }
        },
    )
    assert "errors" not in body, body
    payload = body["data"]["addEvidence"]
    if payload["errors"]:
        assert_refused(payload, "VALIDATION", ["collectedAt"])
        assert await row_counts(runtime) == before
    else:
        collected = datetime.fromisoformat(payload["evidence"]["collectedAt"])
        assert collected == datetime(2024, 3, 1, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("title", " "),
        ("title", "x" * 201),
        ("title", "a\x00b"),
        ("title", "a\nb"),
        ("description", "a\x00b"),
        ("description", "x" * 20_001),
        ("mediaType", "not a type"),
        ("mediaType", "text/plain; charset=utf-8"),
        ("mediaType", "TEXT/PLAIN"),
    ],
)
async def test_bad_text_field_is_validation(
    gql: Any, owner: Owner, runtime: Runtime, field: str, value: str
) -> None:
    async with nothing_written(runtime):
        payload = await add(gql, owner, contentBase64=b64(b"x"), **{field: value})
    assert_refused(payload, "VALIDATION", [field])


# Chain of custody


async def test_registration_opens_custody_with_one_received_entry(gql: Any, owner: Owner) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    evidence = await added(gql, owner, contentBase64=b64(b"x"))
    [entry] = evidence["custody"]
    assert entry["action"] == "RECEIVED"
    assert entry["actorAgency"] == {"code": owner.code}
    assert entry["note"] is None
    assert datetime.fromisoformat(entry["occurredAt"]) >= before
    assert (await read(gql, owner.token, evidence["id"]))["custody"] == [entry]


async def test_custody_events_append_in_order_with_readable_notes(gql: Any, owner: Owner) -> None:
    evidence = await added(gql, owner, contentBase64=b64(b"x"))
    earlier = iso(timedelta(hours=-2))
    steps: list[dict[str, Any]] = [
        {"action": "TRANSFERRED", "note": "Handed to the lab\nbag 7", "occurredAt": earlier},
        {"action": "ANALYSED"},
        {"action": "SEALED", "note": "Sealed in bag 8"},
    ]
    for step in steps:
        payload = await record(gql, owner, evidenceId=evidence["id"], **step)
        assert payload["errors"] == [], payload
        assert payload["custodyEvent"]["action"] == step["action"]
        assert payload["custodyEvent"]["note"] == step.get("note")
        assert payload["custodyEvent"]["actorAgency"] == {"code": owner.code}
    custody = (await read(gql, owner.token, evidence["id"]))["custody"]
    assert [entry["action"] for entry in custody] == [
        "RECEIVED",
        "TRANSFERRED",
        "ANALYSED",
        "SEALED",
    ]
    assert [entry["note"] for entry in custody] == [
        None,
        "Handed to the lab\nbag 7",
        None,
        "Sealed in bag 8",
    ]
    assert datetime.fromisoformat(custody[1]["occurredAt"]) == datetime.fromisoformat(earlier)


async def test_custody_occurred_at_without_timezone_is_not_an_internal_error(
    gql: Any, owner: Owner, runtime: Runtime
) -> None:
    """A naive timestamp is either refused as VALIDATION or taken as UTC, never a crash."""
    evidence = await added(gql, owner, contentBase64=b64(b"x"))
    before = await row_counts(runtime)
    body = await gql(
        owner.token,
        CUSTODY,
        {
            "input": {
                "evidenceId": evidence["id"],
                "action": "SEALED",
                "occurredAt": "2024-03-01T00:30:00",
            }
        },
    )
    assert "errors" not in body, body
    payload = body["data"]["recordCustodyEvent"]
    if payload["errors"]:
        assert_refused(payload, "VALIDATION", ["occurredAt"])
        assert await row_counts(runtime) == before
    else:
        occurred = datetime.fromisoformat(payload["custodyEvent"]["occurredAt"])
        assert occurred == datetime(2024, 3, 1, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"occurredAt": iso(timedelta(days=1))}, ["occurredAt"]),
        ({"note": "a\x00b"}, ["note"]),
        ({"note": "x" * 2_001}, ["note"]),
        ({"note": ""}, ["note"]),
    ],
)
async def test_bad_custody_event_is_validation(
    gql: Any, owner: Owner, runtime: Runtime, fields: dict[str, Any], field: list[str]
) -> None:
    evidence = await added(gql, owner, contentBase64=b64(b"x"))
    async with nothing_written(runtime):
        payload = await record(gql, owner, evidenceId=evidence["id"], action="ACCESSED", **fields)
    assert_refused(payload, "VALIDATION", field)
    assert len((await read(gql, owner.token, evidence["id"]))["custody"]) == 1


# Multipart uploads (GraphQL multipart request spec)


async def upload(
    client: httpx.AsyncClient,
    owner: Owner,
    content: bytes,
    query: str = UPLOAD,
    extra_variables: dict[str, Any] | None = None,
) -> httpx.Response:
    operations = {
        "query": query,
        "variables": {"f": None, "c": owner.case_id, **(extra_variables or {})},
    }
    return await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": ("evidence.bin", content, "application/octet-stream")},
        headers={"Authorization": f"Bearer {owner.token}", "Apollo-Require-Preflight": "true"},
    )


def upload_payload(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["addEvidence"]
    return payload


async def test_multipart_upload_round_trips(
    client: httpx.AsyncClient, gql: Any, owner: Owner
) -> None:
    content = b"%PDF-1.7\n" + bytes(range(256)) * 10
    payload = upload_payload(await upload(client, owner, content))
    assert payload["errors"] == [], payload
    evidence = payload["evidence"]
    assert evidence["sha256"] == hashlib.sha256(content).hexdigest()
    assert evidence["sizeBytes"] == len(content)
    assert base64.b64decode(evidence["contentBase64"]) == content
    again = await read(gql, owner.token, evidence["id"])
    assert base64.b64decode(again["contentBase64"]) == content
    assert [entry["action"] for entry in again["custody"]] == ["RECEIVED"]


async def test_multipart_upload_of_exactly_the_limit_is_accepted(
    client: httpx.AsyncClient, owner: Owner
) -> None:
    content = b"\x7f" * LIMIT
    payload = upload_payload(await upload(client, owner, content))
    assert payload["errors"] == [], payload
    assert payload["evidence"]["sizeBytes"] == LIMIT
    assert payload["evidence"]["sha256"] == sha256(content)


async def test_multipart_upload_over_the_limit_is_validation(
    client: httpx.AsyncClient, owner: Owner, runtime: Runtime
) -> None:
    async with nothing_written(runtime):
        payload = upload_payload(await upload(client, owner, b"\x01" * (LIMIT + 1)))
    error = assert_refused(payload, "VALIDATION", ["content"])
    assert str(LIMIT) in error["message"].replace(",", "")


async def test_multipart_upload_with_content_base64_too_is_validation(
    client: httpx.AsyncClient, owner: Owner, runtime: Runtime
) -> None:
    query = (
        "mutation($f: Upload!, $c: ID!, $b: String!) { addEvidence(input: {caseId: $c, "
        'kind: DOCUMENT, title: "t", content: $f, contentBase64: $b}) '
        "{ evidence { id } errors { code field message } } }"
    )
    async with nothing_written(runtime):
        response = await upload(client, owner, b"one", query, {"b": b64(b"two")})
    assert_refused(upload_payload(response), "VALIDATION", ["content"])


async def test_multipart_upload_for_hash_only_is_validation(
    client: httpx.AsyncClient, owner: Owner, runtime: Runtime
) -> None:
    query = UPLOAD.replace("kind: DOCUMENT", "kind: HASH_ONLY")
    async with nothing_written(runtime):
        response = await upload(client, owner, b"must never reach the hub", query)
    payload = upload_payload(response)
    assert len(payload["errors"]) == 1, payload
    assert payload["errors"][0]["code"] == "VALIDATION"
    assert payload["evidence"] is None


async def test_multipart_upload_with_wrong_sha256_is_validation(
    client: httpx.AsyncClient, owner: Owner, runtime: Runtime
) -> None:
    query = UPLOAD.replace('title: "t"', 'title: "t", sha256: "' + sha256(b"other") + '"')
    async with nothing_written(runtime):
        response = await upload(client, owner, b"content", query)
    assert_refused(upload_payload(response), "VALIDATION", ["sha256"])


async def test_multipart_request_missing_its_file_part_is_a_json_400(
    client: httpx.AsyncClient, owner: Owner, runtime: Runtime
) -> None:
    operations = {"query": UPLOAD, "variables": {"f": None, "c": owner.case_id}}
    async with nothing_written(runtime):
        response = await client.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
            files={"1": ("other.bin", b"x", "application/octet-stream")},
            headers={"Authorization": f"Bearer {owner.token}", "Apollo-Require-Preflight": "true"},
        )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["errors"], response.text
    assert "Traceback" not in response.text
