"""Wrapped data keys tampered with inside the database never unwrap (DESIGN §5, issue 4 item 6):
another agency's wrap, another case's wrap, a rewritten key version or generation all give the
reader the one masked INTERNAL error, never another case's plaintext. And no plaintext, token or
key bytes reach the logs, even of failing requests."""

from __future__ import annotations

import base64
import json
import logging
import secrets
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text

from casehub.api.ids import parse_global_id
from casehub.crypto import unwrap_data_key

OPEN = """mutation($i: OpenCaseInput!) { openCase(input: $i) {
  case { id } errors { code field message } } }"""
READ_CASE = """query($id: ID!) { node(id: $id) { ... on Case { title summary } } }"""
SHARE = """mutation($i: ShareCaseInput!) { shareCase(input: $i) {
  share { id } errors { code field message } } }"""
SUBJECT = """mutation($i: AddSubjectInput!) { addSubject(input: $i) {
  subject { id } errors { code field message } } }"""
EVIDENCE = """mutation($i: AddEvidenceInput!) { addEvidence(input: $i) {
  evidence { id } errors { code field message } } }"""
CUSTODY = """mutation($i: RecordCustodyEventInput!) { recordCustodyEvent(input: $i) {
  custodyEvent { id } errors { code field message } } }"""
REQUEST = """mutation($i: CreateCooperationRequestInput!) { createCooperationRequest(input: $i) {
  request { id } errors { code field message } } }"""
SUBMIT = """mutation($i: RequestStepInput!) { submitCooperationRequest(input: $i) {
  request { id status } errors { code field message } } }"""
MESSAGE = """mutation($i: AddCooperationMessageInput!) { addCooperationMessage(input: $i) {
  message { id } errors { code field message } } }"""
CASE_TREE = """query($id: ID!) { node(id: $id) { ... on Case { id title summary
  subjects { displayName identifiers { kind value } }
  evidence { description contentBase64 custody { note } } } } }"""
READ_REQUEST = """query($id: ID!) { node(id: $id) { ... on CooperationRequest {
  title body messages { kind body } } } }"""


def _uuid(global_id: str) -> UUID:
    value = parse_global_id(global_id)[1]
    assert isinstance(value, UUID)
    return value


def _db(value: UUID, dialect: str) -> object:
    # SQLite stores UUIDs as 32 hex characters; PostgreSQL has a uuid type.
    return value.hex if dialect == "sqlite" else value


async def _execute(runtime: Any, statement: str, **params: Any) -> int:
    async with runtime.database.engine.begin() as connection:
        result = await connection.execute(text(statement), params)
        return int(result.rowcount)


async def _fetch(runtime: Any, statement: str, **params: Any) -> list[Any]:
    async with runtime.database.engine.begin() as connection:
        return list((await connection.execute(text(statement), params)).all())


async def _case(gql: Any, token: str, summary: str) -> str:
    body = await gql(
        token,
        OPEN,
        {
            "i": {
                "reference": f"REF-{secrets.token_hex(6)}",
                "title": "T",
                "summary": summary,
                "category": "FRAUD",
            }
        },
    )
    payload = body["data"]["openCase"]
    assert payload["errors"] == [], body
    return str(payload["case"]["id"])


async def _share_full(gql: Any, token: str, case_id: str, agency_id: str) -> None:
    body = await gql(
        token, SHARE, {"i": {"caseId": case_id, "agencyId": agency_id, "scope": "FULL"}}
    )
    assert body["data"]["shareCase"]["errors"] == [], body


async def _summary(gql: Any, token: str, case_id: str) -> Any:
    body = await gql(token, READ_CASE, {"id": case_id})
    assert "errors" not in body, body
    return body["data"]["node"]["summary"]


def _assert_masked(body: dict[str, Any], *hidden: str) -> None:
    """The read failed with the one masked error and leaked no plaintext."""
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL", body
    assert body["errors"][0]["message"] == "Unexpected error.", body
    node = body["data"]["node"] if body.get("data") else None
    assert node is None or node["summary"] is None, body
    for secret in hidden:
        assert secret not in json.dumps(body), (secret, body)


async def _overwrite_wrap(
    runtime: Any, *, target: tuple[UUID, UUID], source: tuple[UUID, UUID]
) -> None:
    """Set the `wrapped` bytes of the (scope, agency) wrap `target` to those of `source`."""
    dialect = runtime.database.dialect
    changed = await _execute(
        runtime,
        "UPDATE data_key_wrap SET wrapped = (SELECT w.wrapped FROM data_key_wrap w"
        " WHERE w.scope_id = :source_scope AND w.agency_id = :source_agency)"
        " WHERE scope_id = :target_scope AND agency_id = :target_agency",
        source_scope=_db(source[0], dialect),
        source_agency=_db(source[1], dialect),
        target_scope=_db(target[0], dialect),
        target_agency=_db(target[1], dialect),
    )
    assert changed == 1


@pytest.mark.parametrize("donor", ["other agency's case", "same agency's other case"])
async def test_wrap_pasted_from_another_row_fails_opaquely(world, gql, runtime, donor):
    a = await world.agency("A")
    b = await world.agency("B")
    x = await _case(gql, a.token, "x-secret summary of the victim case")
    if donor == "other agency's case":
        donor_agency, donor_case = b, await _case(gql, b.token, "y-secret summary of B")
    else:
        donor_agency, donor_case = a, await _case(gql, a.token, "z-secret summary of A")
    donor_summary = await _summary(gql, donor_agency.token, donor_case)

    await _overwrite_wrap(
        runtime,
        target=(_uuid(x), a.uuid),
        source=(_uuid(donor_case), donor_agency.uuid),
    )

    body = await gql(a.token, READ_CASE, {"id": x})
    _assert_masked(body, donor_summary, "x-secret")
    # The donor's own row still unwraps: only the tampered row is broken.
    assert await _summary(gql, donor_agency.token, donor_case) == donor_summary


@pytest.mark.parametrize("column", ["kek_version", "generation"])
async def test_rewritten_key_reference_fails_opaquely(world, gql, runtime, column):
    a = await world.agency("A")
    x = await _case(gql, a.token, "k-secret summary under a rewritten reference")
    dialect = runtime.database.dialect
    changed = await _execute(
        runtime,
        f"UPDATE data_key_wrap SET {column} = {column} + 1"
        " WHERE scope_id = :scope AND agency_id = :agency",
        scope=_db(_uuid(x), dialect),
        agency=_db(a.uuid, dialect),
    )
    assert changed == 1
    body = await gql(a.token, READ_CASE, {"id": x})
    _assert_masked(body, "k-secret")


async def test_missing_kek_version_fails_opaquely(world, gql, runtime):
    """A version the keyring never had is the same opaque failure, not a KeyringError text."""
    a = await world.agency("A")
    x = await _case(gql, a.token, "m-secret summary")
    missing = max(runtime.keys.versions) + 7
    dialect = runtime.database.dialect
    await _execute(
        runtime,
        "UPDATE data_key_wrap SET kek_version = :v WHERE scope_id = :scope AND agency_id = :a",
        v=missing,
        scope=_db(_uuid(x), dialect),
        a=_db(a.uuid, dialect),
    )
    body = await gql(a.token, READ_CASE, {"id": x})
    _assert_masked(body, "m-secret", f"version {missing}", "keyring")


async def test_owner_wrap_pasted_into_partner_row_fails_opaquely(world, gql, runtime):
    a = await world.agency("A")
    b = await world.agency("B")
    x = await _case(gql, a.token, "s-secret summary shared in full")
    await _share_full(gql, a.token, x, b.id)
    assert await _summary(gql, b.token, x) == "s-secret summary shared in full"

    await _overwrite_wrap(runtime, target=(_uuid(x), b.uuid), source=(_uuid(x), a.uuid))

    _assert_masked(await gql(b.token, READ_CASE, {"id": x}), "s-secret")
    # The owner's own wrap is untouched and still reads.
    assert await _summary(gql, a.token, x) == "s-secret summary shared in full"


# --- logs -------------------------------------------------------------------------------------

MARKERS = {
    "summary": "QZX-SUMMARY-7f3a91 laundering ring",
    "display_name": "QZX-NAME-51c0de Roe",
    "handle": "qzxhandle51c0de",
    "email": "qzx.mail.7f3a91@example.org",
    "description": "QZX-DESCRIPTION-2b9e44 of the export",
    "content": "QZX-CONTENT-aa18f0 raw chat export bytes",
    "note": "QZX-NOTE-c4d2e1 sealed in bag",
    "request_body": "QZX-REQBODY-90ab3c please preserve",
    "message": "QZX-MESSAGE-e61f07 clarification",
    "invalid_phone": "QZX-BADPHONE-3141",
}


def _forms(secret: bytes) -> list[str]:
    """Text forms a secret could take in a log line."""
    return [
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode(),
        base64.b64encode(secret).decode().rstrip("="),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        repr(secret),
    ]


def _root_keys(path: Path) -> dict[str, str]:
    """The keyring file's root keys (base64) by version."""
    keys: dict[str, str] = json.loads(path.read_text())["keys"]
    return keys


def _record_texts(record: logging.LogRecord) -> list[str]:
    texts = [str(record.msg), record.getMessage(), repr(record.args)]
    if record.exc_info:
        texts.append(logging.Formatter().formatException(record.exc_info))
        exc = record.exc_info[1]
        chain: BaseException | None = exc
        while chain is not None:
            texts.append(repr(chain))
            texts.append(str(chain))
            chain = chain.__cause__ or chain.__context__
    if record.exc_text:
        texts.append(record.exc_text)
    if record.stack_info:
        texts.append(record.stack_info)
    texts.append(logging.Formatter("%(name)s %(message)s").format(record))
    return texts


async def test_logs_hold_no_plaintext_token_or_key(
    world, gql, runtime, keyring_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    a = await world.agency("POL")
    b = await world.agency("PLT")
    x = await _case(gql, a.token, MARKERS["summary"])
    subject = await gql(
        a.token,
        SUBJECT,
        {
            "i": {
                "caseId": x,
                "kind": "PERSON",
                "displayName": MARKERS["display_name"],
                "identifiers": [
                    {
                        "kind": "MESSENGER_HANDLE",
                        "value": MARKERS["handle"],
                        "platform": "telegram",
                    },
                    {"kind": "EMAIL", "value": MARKERS["email"]},
                ],
            }
        },
    )
    assert subject["data"]["addSubject"]["errors"] == [], subject
    content_b64 = base64.b64encode(MARKERS["content"].encode()).decode()
    evidence = await gql(
        a.token,
        EVIDENCE,
        {
            "i": {
                "caseId": x,
                "kind": "CHAT_LOG",
                "title": "Export",
                "description": MARKERS["description"],
                "contentBase64": content_b64,
                "mediaType": "text/plain",
            }
        },
    )
    assert evidence["data"]["addEvidence"]["errors"] == [], evidence
    evidence_id = evidence["data"]["addEvidence"]["evidence"]["id"]
    custody = await gql(
        a.token,
        CUSTODY,
        {"i": {"evidenceId": evidence_id, "action": "SEALED", "note": MARKERS["note"]}},
    )
    assert custody["data"]["recordCustodyEvent"]["errors"] == [], custody
    created = await gql(
        a.token,
        REQUEST,
        {
            "i": {
                "requestedAgencyId": b.id,
                "kind": "INFORMATION_REQUEST",
                "title": "Subscriber",
                "body": MARKERS["request_body"],
            }
        },
    )
    assert created["data"]["createCooperationRequest"]["errors"] == [], created
    request_id = created["data"]["createCooperationRequest"]["request"]["id"]
    submitted = await gql(a.token, SUBMIT, {"i": {"id": request_id}})
    assert submitted["data"]["submitCooperationRequest"]["errors"] == [], submitted
    message = await gql(b.token, MESSAGE, {"i": {"id": request_id, "body": MARKERS["message"]}})
    assert message["data"]["addCooperationMessage"]["errors"] == [], message

    # Successful reads of every encrypted field.
    tree = await gql(a.token, CASE_TREE, {"id": x})
    assert MARKERS["note"] in json.dumps(tree), tree
    seen = await gql(b.token, READ_REQUEST, {"id": request_id})
    assert MARKERS["message"] in json.dumps(seen), seen

    # Failing requests: bad ids, a refused invalid identifier holding a marker, a foreign read,
    # a bad token, and a tampered ciphertext read (an INTERNAL error logged with a traceback).
    await gql(a.token, CASE_TREE, {"id": "not-a-global-id"})
    await gql(a.token, CASE_TREE, {"id": "Q2FzZTpub3QtYS11dWlk"})
    await gql(
        a.token,
        SUBJECT,
        {
            "i": {
                "caseId": "bogus",
                "kind": "PERSON",
                "displayName": MARKERS["display_name"],
            }
        },
    )
    await gql(
        a.token,
        SUBJECT,
        {
            "i": {
                "caseId": x,
                "kind": "PERSON",
                "displayName": MARKERS["display_name"],
                "identifiers": [{"kind": "PHONE", "value": MARKERS["invalid_phone"]}],
            }
        },
    )
    assert (await gql(b.token, CASE_TREE, {"id": x}))["data"]["node"] is None
    await gql(a.token[:-4] + "AAAA", READ_CASE, {"id": x}, status=401)
    dialect = runtime.database.dialect
    await _execute(
        runtime,
        "UPDATE custody_event SET note = (SELECT description FROM evidence WHERE id = :e)"
        " WHERE evidence_id = :e",
        e=_db(_uuid(evidence_id), dialect),
    )
    tampered = await gql(a.token, CASE_TREE, {"id": x})
    assert tampered["errors"][0]["extensions"]["code"] == "INTERNAL", tampered
    broken_wrap = await _case(gql, a.token, MARKERS["summary"] + " (second)")
    await _execute(
        runtime,
        "UPDATE data_key_wrap SET generation = generation + 1"
        " WHERE scope_id = :s AND agency_id = :a",
        s=_db(_uuid(broken_wrap), dialect),
        a=_db(a.uuid, dialect),
    )
    _assert_masked(await gql(a.token, READ_CASE, {"id": broken_wrap}), MARKERS["summary"])

    records = caplog.records
    assert any(record.levelno >= logging.ERROR and record.exc_info for record in records), (
        "the tampered read should have logged its traceback"
    )

    forbidden: dict[str, str] = {}
    for name, marker in MARKERS.items():
        forbidden[name] = marker
        forbidden[f"{name} (base64)"] = base64.b64encode(marker.encode()).decode()
    forbidden["content (as sent)"] = content_b64
    for agency in (a, b):
        for role, token in agency.tokens.items():
            forbidden[f"token {agency.code}/{role}"] = token
            forbidden[f"token {agency.code}/{role} secret part"] = token.split("_", 1)[1]
    for agency in (a, b):
        for version in runtime.keys.versions:
            kek = runtime.keys.agency_kek(agency.uuid, version)
            for i, form in enumerate(_forms(kek)):
                forbidden[f"KEK {agency.code} v{version} form {i}"] = form
    for version, root in _root_keys(keyring_path).items():
        raw = base64.b64decode(root)
        for i, form in enumerate([root, *_forms(raw)]):
            forbidden[f"root key v{version} form {i}"] = form
    wraps = await _fetch(
        runtime,
        "SELECT scope_id, generation, agency_id, kek_version, wrapped FROM data_key_wrap"
        " WHERE scope_id = :s",
        s=_db(_uuid(x), dialect),
    )
    for scope_id, generation, agency_id, kek_version, wrapped in wraps:
        key = unwrap_data_key(
            runtime.keys,
            scope_id=scope_id if isinstance(scope_id, UUID) else UUID(str(scope_id)),
            generation=generation,
            agency_id=agency_id if isinstance(agency_id, UUID) else UUID(str(agency_id)),
            version=kek_version,
            blob=bytes(wrapped),
        )
        for i, form in enumerate(_forms(key.secret)):
            forbidden[f"data key form {i}"] = form

    assert records, "nothing was logged at all: is the capture working?"
    leaks = [
        (label, record.name, record.levelname, record.getMessage()[:200])
        for record in records
        for body in _record_texts(record)
        for label, secret in forbidden.items()
        if secret in body
    ]
    assert leaks == []
