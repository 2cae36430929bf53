"""Bad input gets a clear, typed error and changes nothing.

Each refusal is checked twice: the error (code and input field), and the row count of every
table but the audit log (refusals are audited by design) before and after.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from casehub.api.ids import to_global_id
from casehub.services.cases.subjects import IDENTIFIERS_MAX
from casehub.services.runtime import Runtime
from tests.support import nothing_written, row_counts

INPUT_TYPES = {
    "registerAgency": "RegisterAgencyInput",
    "openCase": "OpenCaseInput",
    "updateCase": "UpdateCaseInput",
    "addSubject": "AddSubjectInput",
    "addEvidence": "AddEvidenceInput",
    "recordCustodyEvent": "RecordCustodyEventInput",
    "shareCase": "ShareCaseInput",
    "revokeShare": "RevokeShareInput",
}

SHA256_OF_NOTHING = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
INTERNAL_MARKERS = ("Unexpected error", "Traceback", "sqlalchemy", 'File "')


async def mutate(
    gql: Any, token: str, name: str, data: dict[str, Any], selection: str = ""
) -> dict[str, Any]:
    """One mutation with `data` as its input; its payload (no top-level errors allowed)."""
    document = (
        f"mutation($input: {INPUT_TYPES[name]}!) {{ {name}(input: $input) "
        f"{{ {selection} errors {{ code field message }} }} }}"
    )
    body = await gql(token, document, {"input": data})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][name]
    return payload


def assert_refused(payload: dict[str, Any], code: str, field: list[str]) -> None:
    """The payload holds exactly one error of this code on this field, and no object."""
    assert len(payload["errors"]) == 1, payload
    error = payload["errors"][0]
    assert error["code"] == code, payload
    assert error["field"] == field, payload
    assert error["message"], payload
    assert all(value is None for key, value in payload.items() if key != "errors"), payload


def assert_document_refused(body: dict[str, Any], *mentions: str) -> None:
    """A request refused before execution: no data, a typed error naming the culprit."""
    assert body.get("data") is None, body
    assert body["errors"], body
    for error in body["errors"]:
        code = error.get("extensions", {}).get("code")
        assert code, body
        assert code != "INTERNAL", body
        for marker in INTERNAL_MARKERS:
            assert marker not in error["message"], body
        assert "Did you mean" not in error["message"], body
    text = " ".join(error["message"] for error in body["errors"])
    for mention in mentions:
        assert mention in text, body


@dataclass
class Scene:
    """An owner agency with a case, an evidence item and a share to a second agency."""

    token: str
    agency_id: str
    other_agency_id: str
    case_id: str
    evidence_id: str
    share_id: str


@pytest.fixture
async def scene(world: Any, gql: Any) -> Scene:
    owner = await world.agency("BI")
    other = await world.agency("BO")
    case = await mutate(
        gql,
        owner.token,
        "openCase",
        {"reference": "R-1", "title": "Op Input", "summary": "s", "category": "FRAUD"},
        "case { id }",
    )
    assert case["errors"] == [], case
    case_id = case["case"]["id"]
    item = await mutate(
        gql,
        owner.token,
        "addEvidence",
        {"caseId": case_id, "kind": "DOCUMENT", "title": "doc", "contentBase64": "aGVsbG8="},
        "evidence { id }",
    )
    assert item["errors"] == [], item
    share = await mutate(
        gql,
        owner.token,
        "shareCase",
        {"caseId": case_id, "agencyId": other.id, "scope": "METADATA"},
        "share { id }",
    )
    assert share["errors"] == [], share
    return Scene(
        token=owner.token,
        agency_id=owner.id,
        other_agency_id=other.id,
        case_id=case_id,
        evidence_id=item["evidence"]["id"],
        share_id=share["share"]["id"],
    )


def _bad_id(kind: str, scene: Scene) -> str:
    if kind == "garbage":
        return "not-an-id!"
    if kind == "base64-of-garbage":
        return base64.urlsafe_b64encode(b"hello world, no type here").decode().rstrip("=")
    if kind == "base64-of-unknown-type":
        return to_global_id("Banana", uuid.uuid4())
    if kind == "too-long":
        return "Q" * 500
    assert kind == "agency-id"
    return scene.agency_id


BAD_ID_KINDS = ["garbage", "base64-of-garbage", "base64-of-unknown-type", "too-long", "agency-id"]


def _inputs_with_id(scene: Scene, bad: str) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """Per mutation: an input carrying `bad` where another type's id is due, and its field."""
    return {
        "addSubject": (
            {"caseId": bad, "kind": "PERSON", "displayName": "n"},
            ["caseId"],
        ),
        "updateCase": ({"id": bad, "expectedVersion": 1, "title": "new"}, ["id"]),
        "addEvidence": (
            {"caseId": bad, "kind": "HASH_ONLY", "title": "t", "sha256": SHA256_OF_NOTHING},
            ["caseId"],
        ),
        "recordCustodyEvent": ({"evidenceId": bad, "action": "ACCESSED"}, ["evidenceId"]),
        "shareCase": (
            {"caseId": bad, "agencyId": scene.other_agency_id, "scope": "FULL"},
            ["caseId"],
        ),
        "revokeShare": ({"shareId": bad}, ["shareId"]),
    }


# Global ids


@pytest.mark.parametrize("kind", BAD_ID_KINDS)
@pytest.mark.parametrize(
    "mutation",
    ["addSubject", "updateCase", "addEvidence", "recordCustodyEvent", "shareCase", "revokeShare"],
)
async def test_malformed_or_mistyped_id_is_validation_on_its_field(
    scene: Scene, gql: Any, runtime: Runtime, mutation: str, kind: str
) -> None:
    data, field = _inputs_with_id(scene, _bad_id(kind, scene))[mutation]
    async with nothing_written(runtime):
        payload = await mutate(gql, scene.token, mutation, data)
    assert_refused(payload, "VALIDATION", field)


async def test_share_case_with_ids_swapped_is_validation(
    scene: Scene, gql: Any, runtime: Runtime
) -> None:
    async with nothing_written(runtime):
        swapped = await mutate(
            gql,
            scene.token,
            "shareCase",
            {"caseId": scene.other_agency_id, "agencyId": scene.case_id, "scope": "FULL"},
        )
    assert_refused(swapped, "VALIDATION", ["caseId"])


@pytest.mark.parametrize("kind", BAD_ID_KINDS)
async def test_share_case_with_bad_agency_id_is_validation(
    scene: Scene, gql: Any, runtime: Runtime, kind: str
) -> None:
    bad = scene.case_id if kind == "agency-id" else _bad_id(kind, scene)
    async with nothing_written(runtime):
        payload = await mutate(
            gql,
            scene.token,
            "shareCase",
            {"caseId": scene.case_id, "agencyId": bad, "scope": "FULL"},
        )
    assert_refused(payload, "VALIDATION", ["agencyId"])


async def test_custody_event_on_a_case_id_is_validation(
    scene: Scene, gql: Any, runtime: Runtime
) -> None:
    async with nothing_written(runtime):
        payload = await mutate(
            gql,
            scene.token,
            "recordCustodyEvent",
            {"evidenceId": scene.case_id, "action": "COPIED"},
        )
    assert_refused(payload, "VALIDATION", ["evidenceId"])


@pytest.mark.parametrize("kind", ["garbage", "base64-of-garbage", "base64-of-unknown-type"])
async def test_node_with_malformed_id_is_a_typed_top_level_error(
    scene: Scene, gql: Any, kind: str
) -> None:
    body = await gql(
        scene.token, "query($id: ID!) { node(id: $id) { id } }", {"id": _bad_id(kind, scene)}
    )
    assert body["data"] == {"node": None}, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION", body
    assert error["extensions"]["field"] == ["id"], body
    for marker in INTERNAL_MARKERS:
        assert marker not in error["message"], body


async def test_nodes_with_one_malformed_id_is_a_typed_top_level_error(
    scene: Scene, gql: Any
) -> None:
    body = await gql(
        scene.token,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [scene.case_id, "garbage"]},
    )
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION", body


async def test_well_formed_id_of_missing_objects_is_null_or_not_found(
    scene: Scene, gql: Any, runtime: Runtime
) -> None:
    missing_case = to_global_id("Case", uuid.uuid4())
    missing_evidence = to_global_id("Evidence", uuid.uuid4())
    missing_share = to_global_id("CaseShare", uuid.uuid4())
    missing_agency = to_global_id("Agency", uuid.uuid4())
    body = await gql(
        scene.token,
        "query($id: ID!, $ids: [ID!]!) { node(id: $id) { id } nodes(ids: $ids) { id } }",
        {"id": missing_case, "ids": [missing_case, missing_evidence, scene.case_id]},
    )
    assert "errors" not in body, body
    assert body["data"]["node"] is None
    assert body["data"]["nodes"] == [None, None, {"id": scene.case_id}]

    attempts: list[tuple[str, dict[str, Any], list[str]]] = [
        ("addSubject", {"caseId": missing_case, "kind": "PERSON", "displayName": "n"}, ["caseId"]),
        ("updateCase", {"id": missing_case, "expectedVersion": 1, "title": "t"}, ["id"]),
        (
            "addEvidence",
            {
                "caseId": missing_case,
                "kind": "HASH_ONLY",
                "title": "t",
                "sha256": SHA256_OF_NOTHING,
            },
            ["caseId"],
        ),
        (
            "recordCustodyEvent",
            {"evidenceId": missing_evidence, "action": "COPIED"},
            ["evidenceId"],
        ),
        (
            "shareCase",
            {"caseId": missing_case, "agencyId": scene.other_agency_id, "scope": "FULL"},
            ["caseId"],
        ),
        (
            "shareCase",
            {"caseId": scene.case_id, "agencyId": missing_agency, "scope": "FULL"},
            ["agencyId"],
        ),
        ("revokeShare", {"shareId": missing_share}, ["shareId"]),
    ]
    for mutation, data, field in attempts:
        async with nothing_written(runtime):
            payload = await mutate(gql, scene.token, mutation, data)
        assert_refused(payload, "NOT_FOUND", field)


async def test_share_expiry_without_timezone_is_not_an_internal_error(
    scene: Scene, gql: Any, runtime: Runtime
) -> None:
    """A naive timestamp is either refused as VALIDATION or taken as UTC, never a crash."""
    before = await row_counts(runtime)
    data = {
        "caseId": scene.case_id,
        "agencyId": scene.other_agency_id,
        "scope": "FULL",
        "expiresAt": "2099-03-01T00:30:00",
    }
    body = await gql(
        scene.token,
        "mutation($input: ShareCaseInput!) { shareCase(input: $input) "
        "{ share { expiresAt } errors { code field message } } }",
        {"input": data},
    )
    assert "errors" not in body, body
    payload = body["data"]["shareCase"]
    if payload["errors"]:
        assert_refused(payload, "VALIDATION", ["expiresAt"])
        assert await row_counts(runtime) == before
    else:
        assert payload["share"]["expiresAt"].startswith("2099-03-01T00:30:00")


@pytest.mark.parametrize("expires_at", ["2020-01-01T00:00:00+00:00", "not a date"])
async def test_share_expiry_in_the_past_or_malformed_is_refused(
    scene: Scene, gql: Any, runtime: Runtime, expires_at: str
) -> None:
    data = {
        "caseId": scene.case_id,
        "agencyId": scene.other_agency_id,
        "scope": "FULL",
        "expiresAt": expires_at,
    }
    async with nothing_written(runtime):
        body = await gql(
            scene.token,
            "mutation($input: ShareCaseInput!) { shareCase(input: $input) "
            "{ share { id } errors { code field message } } }",
            {"input": data},
        )
    if "errors" in body:
        assert_document_refused(body, "expiresAt")
    else:
        assert_refused(body["data"]["shareCase"], "VALIDATION", ["expiresAt"])


# Enums and required fields, refused by GraphQL before any resolver runs


OPEN_CASE_VARIABLES = """
mutation($input: OpenCaseInput!) { openCase(input: $input) { case { id } errors { code } } }
"""


@pytest.mark.parametrize("value", ["BANANA", "fraud", "FRUAD", ""])
async def test_unknown_enum_value_in_variables_is_a_validation_error(
    scene: Scene, gql: Any, runtime: Runtime, value: str
) -> None:
    data = {"reference": "R-enum", "title": "t", "summary": "s", "category": value}
    async with nothing_written(runtime):
        body = await gql(scene.token, OPEN_CASE_VARIABLES, {"input": data})
    assert_document_refused(body, "category")


async def test_unknown_enum_literal_in_document_is_a_validation_error(
    scene: Scene, gql: Any, runtime: Runtime
) -> None:
    document = """
    mutation { openCase(input: {reference: "R-lit", title: "t", summary: "s", category: BANANA})
      { case { id } errors { code } } }
    """
    async with nothing_written(runtime):
        body = await gql(scene.token, document)
    assert_document_refused(body, "BANANA")


async def test_unknown_share_scope_is_a_validation_error(
    scene: Scene, gql: Any, runtime: Runtime
) -> None:
    document = """
    mutation($input: ShareCaseInput!) { shareCase(input: $input) { share { id } errors { code } } }
    """
    data = {"caseId": scene.case_id, "agencyId": scene.other_agency_id, "scope": "ALL"}
    async with nothing_written(runtime):
        body = await gql(scene.token, document, {"input": data})
    assert_document_refused(body, "scope")


@pytest.mark.parametrize("missing", ["reference", "title", "summary", "category"])
async def test_missing_required_input_field_is_a_validation_error(
    scene: Scene, gql: Any, runtime: Runtime, missing: str
) -> None:
    data = {"reference": "R-missing", "title": "t", "summary": "s", "category": "FRAUD"}
    del data[missing]
    async with nothing_written(runtime):
        body = await gql(scene.token, OPEN_CASE_VARIABLES, {"input": data})
    assert_document_refused(body, missing)


async def test_null_for_required_input_field_is_a_validation_error(
    scene: Scene, gql: Any, runtime: Runtime
) -> None:
    data = {"reference": "R-null", "title": None, "summary": "s", "category": "FRAUD"}
    async with nothing_written(runtime):
        body = await gql(scene.token, OPEN_CASE_VARIABLES, {"input": data})
    assert_document_refused(body, "title")


async def test_unknown_input_field_is_a_validation_error(
    scene: Scene, gql: Any, runtime: Runtime
) -> None:
    data = {"reference": "R-x", "titel": "t", "title": "t", "summary": "s", "category": "FRAUD"}
    async with nothing_written(runtime):
        body = await gql(scene.token, OPEN_CASE_VARIABLES, {"input": data})
    assert_document_refused(body, "titel")


async def test_missing_input_variable_is_a_validation_error(
    scene: Scene, gql: Any, runtime: Runtime
) -> None:
    async with nothing_written(runtime):
        body = await gql(scene.token, OPEN_CASE_VARIABLES, {})
    assert_document_refused(body, "input")


async def test_wrong_scalar_type_is_a_validation_error(
    scene: Scene, gql: Any, runtime: Runtime
) -> None:
    document = """
    mutation($input: UpdateCaseInput!) { updateCase(input: $input) { case { id } errors { code } } }
    """
    data = {"id": scene.case_id, "expectedVersion": "one", "title": "t"}
    async with nothing_written(runtime):
        body = await gql(scene.token, document, {"input": data})
    assert_document_refused(body, "expectedVersion")


# Numbers: huge, fractional or out of the Int range, refused before any resolver runs


@pytest.mark.parametrize(
    ("literal", "mention"),
    [
        ("1e400", "non-integer"),
        ("1.5", "non-integer"),
        ("2147483648", "32-bit"),
        ("-2147483649", "32-bit"),
        ("9" * 10_000, "50 characters"),
    ],
    ids=["1e400", "fraction", "int32-max+1", "int32-min-1", "10000-digits"],
)
async def test_a_bad_number_literal_is_refused(
    scene: Scene, gql: Any, runtime: Runtime, literal: str, mention: str
) -> None:
    document = (
        f'mutation {{ updateCase(input: {{id: "{scene.case_id}", expectedVersion: {literal}, '
        'title: "t"}) { case { id } errors { code } } }'
    )
    async with nothing_written(runtime):
        body = await gql(scene.token, document)
    assert_document_refused(body, mention)


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 1e300, 1.5, "1", True])
async def test_a_bad_number_variable_is_refused(
    scene: Scene, gql: Any, runtime: Runtime, value: Any
) -> None:
    document = """
    mutation($input: UpdateCaseInput!) { updateCase(input: $input) { case { id } errors { code } } }
    """
    data = {"id": scene.case_id, "expectedVersion": value, "title": "t"}
    async with nothing_written(runtime):
        body = await gql(scene.token, document, {"input": data})
    assert_document_refused(body, "expectedVersion")


# Strings


def _case_input(**fields: Any) -> dict[str, Any]:
    return {
        "reference": f"R-{uuid.uuid4().hex[:8]}",
        "title": "Op Strings",
        "summary": "a summary",
        "category": "FRAUD",
        **fields,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("title", "   "),
        ("title", "x" * 201),
        ("title", "a\x00b"),
        ("title", "a\x1bb"),
        ("title", "a\u2028b"),
        ("title", "a\u2029b"),
        ("title", "line one\nline two"),
        ("title", "tab\there"),
        ("reference", ""),
        ("reference", " \t "),
        ("reference", "R\x00-1"),
        ("reference", "x" * 101),
        ("summary", ""),
        ("summary", "x" * 20_001),
        ("summary", "a\x00b"),
        ("summary", "a\x1b[31mred"),
        ("summary", "a\u2028b"),
    ],
    ids=lambda value: repr(value)[:20],
)
async def test_open_case_refuses_bad_string(
    scene: Scene, gql: Any, runtime: Runtime, field: str, value: str
) -> None:
    async with nothing_written(runtime):
        payload = await mutate(
            gql, scene.token, "openCase", _case_input(**{field: value}), "case { id }"
        )
    assert_refused(payload, "VALIDATION", [field])


async def test_open_case_accepts_limits_and_newlines_in_summary(scene: Scene, gql: Any) -> None:
    prefix = "line one\nline two\r\n\tindented "
    summary = prefix + "x" * (20_000 - len(prefix))
    payload = await mutate(
        gql,
        scene.token,
        "openCase",
        _case_input(title="t" * 200, summary=summary),
        "case { title summary }",
    )
    assert payload["errors"] == [], payload
    assert payload["case"] == {"title": "t" * 200, "summary": summary}


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", ""), ("title", "x" * 201), ("title", "a\nb"), ("summary", "a\x00b")],
)
async def test_update_case_refuses_bad_string(
    scene: Scene, gql: Any, runtime: Runtime, field: str, value: str
) -> None:
    async with nothing_written(runtime):
        payload = await mutate(
            gql,
            scene.token,
            "updateCase",
            {"id": scene.case_id, "expectedVersion": 1, field: value},
            "case { id }",
        )
    assert_refused(payload, "VALIDATION", [field])
    body = await gql(
        scene.token,
        "query($id: ID!) { node(id: $id) { ... on Case { version title } } }",
        {"id": scene.case_id},
    )
    assert body["data"]["node"] == {"version": 1, "title": "Op Input"}


async def test_duplicate_reference_in_one_agency_is_validation(
    scene: Scene, world: Any, gql: Any, runtime: Runtime
) -> None:
    async with nothing_written(runtime):
        payload = await mutate(
            gql, scene.token, "openCase", _case_input(reference="R-1"), "case { id }"
        )
    assert_refused(payload, "VALIDATION", ["reference"])
    # Another agency may use the same number for its own case.
    stranger = await world.agency("BS")
    accepted = await mutate(
        gql, stranger.token, "openCase", _case_input(reference="R-1"), "case { id }"
    )
    assert accepted["errors"] == [], accepted


def _subject(case_id: str, **fields: Any) -> dict[str, Any]:
    return {"caseId": case_id, "kind": "PERSON", "displayName": "Tan Ah Kow", **fields}


@pytest.mark.parametrize(
    "value", ["", "  ", "a\x00b", "a\x1bb", "a\u2028b", "a\nb", "x" * 501], ids=repr
)
async def test_add_subject_refuses_bad_display_name(
    scene: Scene, gql: Any, runtime: Runtime, value: str
) -> None:
    async with nothing_written(runtime):
        payload = await mutate(
            gql,
            scene.token,
            "addSubject",
            _subject(scene.case_id, displayName=value),
            "subject { id }",
        )
    assert_refused(payload, "VALIDATION", ["displayName"])


@pytest.mark.parametrize(
    "value", ["", "   ", "+60\x00123", "a\x1bb", "a\u2028b", "a\nb", "x" * 1_001], ids=repr
)
async def test_add_subject_refuses_bad_identifier_value(
    scene: Scene, gql: Any, runtime: Runtime, value: str
) -> None:
    identifiers = [{"kind": "PHONE", "value": "+60123456789"}, {"kind": "EMAIL", "value": value}]
    async with nothing_written(runtime):
        payload = await mutate(
            gql,
            scene.token,
            "addSubject",
            _subject(scene.case_id, identifiers=identifiers),
            "subject { id }",
        )
    assert_refused(payload, "VALIDATION", ["identifiers", "1", "value"])


@pytest.mark.parametrize(
    ("identifier", "field"),
    [
        ({"kind": "MESSENGER_HANDLE", "value": "@gold"}, ["identifiers", "0", "platform"]),
        ({"kind": "CRYPTO_WALLET", "value": "TQn9Y2kh"}, ["identifiers", "0", "chain"]),
        (
            {"kind": "MESSENGER_HANDLE", "value": "@gold", "platform": "tele gram"},
            ["identifiers", "0", "platform"],
        ),
        (
            {"kind": "CRYPTO_WALLET", "value": "TQn9Y2kh", "chain": ""},
            ["identifiers", "0", "chain"],
        ),
        (
            {"kind": "PHONE", "value": "+60123456789", "platform": "telegram"},
            ["identifiers", "0", "platform"],
        ),
        (
            {"kind": "EMAIL", "value": "a@example.org", "chain": "tron"},
            ["identifiers", "0", "chain"],
        ),
    ],
)
async def test_add_subject_refuses_identifier_without_its_qualifier(
    scene: Scene, gql: Any, runtime: Runtime, identifier: dict[str, str], field: list[str]
) -> None:
    async with nothing_written(runtime):
        payload = await mutate(
            gql,
            scene.token,
            "addSubject",
            _subject(scene.case_id, identifiers=[identifier]),
            "subject { id }",
        )
    assert_refused(payload, "VALIDATION", field)


async def test_add_subject_refuses_more_than_10_identifiers(
    scene: Scene, gql: Any, runtime: Runtime
) -> None:
    """A subject holds at most IDENTIFIERS_MAX identifiers (Subject.identifiers' bound in the
    cost of a query); the list is refused before it is even read."""
    assert IDENTIFIERS_MAX == 10
    many = [{"kind": "PHONE", "value": f"+6012{number:07d}"} for number in range(11)]
    document = (
        "mutation($input: AddSubjectInput!) { addSubject(input: $input) "
        "{ subject { id } errors { code field message } } }"
    )
    async with nothing_written(runtime):
        body = await gql(
            scene.token, document, {"input": _subject(scene.case_id, identifiers=many)}
        )
    [error] = body["errors"]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "listItems", "max": 10}
    accepted = await mutate(
        gql,
        scene.token,
        "addSubject",
        _subject(scene.case_id, identifiers=many[:10]),
        "subject { identifiers { id } }",
    )
    assert accepted["errors"] == [], accepted
    assert len(accepted["subject"]["identifiers"]) == 10


# registerAgency


def _agency_input(**fields: Any) -> dict[str, Any]:
    return {
        "code": f"NEW-{uuid.uuid4().hex[:6].upper()}",
        "name": "New Agency",
        "jurisdiction": "MY",
        "kind": "REGULATOR",
        **fields,
    }


async def test_register_agency_accepts_a_good_one(world: Any, gql: Any) -> None:
    hub = await world.agency("HUB")
    data = _agency_input(jurisdiction="INT", kind="INTERNATIONAL_ORGANIZATION")
    payload = await mutate(
        gql, hub.tokens["HUB_ADMIN"], "registerAgency", data, "agency { code jurisdiction }"
    )
    assert payload["errors"] == [], payload
    assert payload["agency"] == {"code": data["code"], "jurisdiction": "INT"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("jurisdiction", "XX"),
        ("jurisdiction", "my"),
        ("jurisdiction", "FRA"),
        ("jurisdiction", ""),
        ("jurisdiction", " MY"),
        ("code", "my pdrm"),
        ("code", "-X"),
        ("code", "X"),
        ("code", "MY PDRM"),
        ("code", "A" * 33),
        ("code", ""),
        ("name", ""),
        ("name", "a\x00b"),
        ("name", "x" * 201),
    ],
)
async def test_register_agency_refuses_bad_field(
    world: Any, gql: Any, runtime: Runtime, field: str, value: str
) -> None:
    hub = await world.agency("HUB")
    async with nothing_written(runtime):
        payload = await mutate(
            gql,
            hub.tokens["HUB_ADMIN"],
            "registerAgency",
            _agency_input(**{field: value}),
            "agency { id }",
        )
    assert_refused(payload, "VALIDATION", [field])


async def test_register_agency_refuses_duplicate_code(
    world: Any, gql: Any, runtime: Runtime
) -> None:
    hub = await world.agency("HUB")
    existing = await world.agency("DUP")
    async with nothing_written(runtime):
        payload = await mutate(
            gql,
            hub.tokens["HUB_ADMIN"],
            "registerAgency",
            _agency_input(code=existing.code),
            "agency { id }",
        )
    assert_refused(payload, "VALIDATION", ["code"])


async def test_register_agency_needs_hub_admin(world: Any, gql: Any, runtime: Runtime) -> None:
    agency = await world.agency("NHA")
    async with nothing_written(runtime):
        payload = await mutate(
            gql, agency.token, "registerAgency", _agency_input(), "agency { id }"
        )
    assert len(payload["errors"]) == 1, payload
    assert payload["errors"][0]["code"] == "FORBIDDEN"
    assert payload["agency"] is None
