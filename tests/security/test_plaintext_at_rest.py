"""Known secrets written through the API never appear in clear in the database files or dumps,
and every protected field of the registry is found sealed where its entry says, opening under
that entry (a call site that sealed under another field's name would not)."""

from __future__ import annotations

import base64
import secrets
import subprocess
from uuid import UUID

from sqlalchemy.engine import make_url

from casehub.persistence import sqlite_path
from casehub.services.protected import (
    CASE_SUMMARY,
    CUSTODY_NOTE,
    EVIDENCE_CONTENT,
    EVIDENCE_DESCRIPTION,
    FIELDS,
    IDENTIFIER_VALUE,
    LEGAL_HOLD_REASON,
    MESSAGE_BODY,
    REQUEST_BODY,
    REQUEST_EVIDENCE_CONTENT,
    REQUEST_EVIDENCE_DESCRIPTION,
    REQUEST_PARTICULARS,
    SUBJECT_DISPLAY_NAME,
)
from tests.at_rest import envelopes, owner_key
from tests.request_support import Requests

OPEN = """mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } errors { message } } }"""
SUBJECT = """mutation($i: AddSubjectInput!) {
  addSubject(input: $i) { subject { id } errors { message } } }"""
EVIDENCE = """mutation($i: AddEvidenceInput!) {
  addEvidence(input: $i) { evidence { id } errors { message } } }"""
CUSTODY = """mutation($i: RecordCustodyEventInput!) {
  recordCustodyEvent(input: $i) { custodyEvent { id } errors { message } } }"""
SHARE = (
    """mutation($i: ShareCaseInput!) { shareCase(input: $i) { share { id } errors { message } } }"""
)
READ = """query($id: ID!) { node(id: $id) { ... on Case {
  summary subjects { displayName identifiers { value } }
  evidence { description contentBase64 custody { note } } } } }"""
HOLD = """mutation($i: SetLegalHoldInput!) { setLegalHold(input: $i) { errors { message } } }"""

# The secret each field is written with below: every field of the registry has one.
WRITTEN = {
    CASE_SUMMARY: ["summary"],
    SUBJECT_DISPLAY_NAME: ["name"],
    IDENTIFIER_VALUE: ["phone", "handle"],
    EVIDENCE_DESCRIPTION: ["desc"],
    EVIDENCE_CONTENT: ["content"],
    CUSTODY_NOTE: ["note"],
    REQUEST_BODY: ["body"],
    REQUEST_PARTICULARS: ["offence"],
    MESSAGE_BODY: ["message"],
    REQUEST_EVIDENCE_DESCRIPTION: ["desc"],
    REQUEST_EVIDENCE_CONTENT: ["content"],
    LEGAL_HOLD_REASON: ["reason"],
}


def _marker(label: str) -> str:
    return f"SECRET-{label}-{secrets.token_hex(8)}"


async def _write_secrets(world, gql) -> tuple[UUID, dict[str, str]]:
    """A case and a request of a new agency with every protected field written; (the owner
    agency's id, each secret by name)."""
    owner = await world.agency()
    partner = await world.agency()
    names = ("summary", "name", "handle", "desc", "content", "note")
    known = {name: _marker(name) for name in (*names, "body", "offence", "message", "reason")}
    # A phone identifier must be a valid number: a random Malaysian mobile number.
    known["phone"] = f"+6012{secrets.randbelow(10_000_000):07d}"
    opened = await gql(
        owner.token,
        OPEN,
        {"i": {"reference": "R", "title": "T", "summary": known["summary"], "category": "FRAUD"}},
    )
    case_id = opened["data"]["openCase"]["case"]["id"]
    added = await gql(
        owner.token,
        SUBJECT,
        {
            "i": {
                "caseId": case_id,
                "kind": "PERSON",
                "displayName": known["name"],
                "identifiers": [
                    {"kind": "PHONE", "value": known["phone"]},
                    {"kind": "MESSENGER_HANDLE", "value": known["handle"], "platform": "telegram"},
                ],
            }
        },
    )
    assert added["data"]["addSubject"]["errors"] == []
    content = known["content"].encode()
    evidence = await gql(
        owner.token,
        EVIDENCE,
        {
            "i": {
                "caseId": case_id,
                "kind": "DOCUMENT",
                "title": "E",
                "description": known["desc"],
                "contentBase64": base64.b64encode(content).decode(),
            }
        },
    )
    evidence_id = evidence["data"]["addEvidence"]["evidence"]["id"]
    custody = await gql(
        owner.token,
        CUSTODY,
        {"i": {"evidenceId": evidence_id, "action": "SEALED", "note": known["note"]}},
    )
    assert custody["data"]["recordCustodyEvent"]["errors"] == []
    shared = await gql(
        owner.token, SHARE, {"i": {"caseId": case_id, "agencyId": partner.id, "scope": "FULL"}}
    )
    assert shared["data"]["shareCase"]["errors"] == []
    # Reading as the partner decrypts every field, which is audited: the audit must not leak either.
    read = await gql(partner.token, READ, {"id": case_id})
    assert read["data"]["node"]["summary"] == known["summary"]
    assert read["data"]["node"]["evidence"][0]["custody"][-1]["note"] == known["note"]
    requests = Requests(gql)
    request_id = await requests.draft(
        owner.token,
        partner.id,
        body=known["body"],
        particulars={"offence": known["offence"]},
        caseId=case_id,
        evidenceIds=[evidence_id],
    )
    assert (await requests.message(owner.token, request_id, known["message"]))["errors"] == []
    held = await gql(
        owner.token, HOLD, {"i": {"id": case_id, "hold": True, "reason": known["reason"]}}
    )
    assert held["data"]["setLegalHold"]["errors"] == []
    return owner.uuid, known


def _database_bytes(url: str) -> bytes:
    path = sqlite_path(url)
    if path is not None:
        files = [path, path.with_name(path.name + "-wal")]
        return b"".join(file.read_bytes() for file in files if file.exists())
    parsed = make_url(url)
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            parsed.host or "127.0.0.1",
            "-p",
            str(parsed.port or 5432),
            "-U",
            parsed.username or "postgres",
            parsed.database or "",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return dump.stdout


async def test_no_plaintext_in_storage(world, gql, settings):
    _owner, known = await _write_secrets(world, gql)
    stored = _database_bytes(settings.database_url)
    assert stored, "the database dump is empty"
    for secret in known.values():
        for form in (
            secret.encode(),
            secret.encode("utf-16-le"),
            base64.b64encode(secret.encode()),
        ):
            assert form not in stored, f"{secret} is stored in clear"


def test_every_field_of_the_registry_is_written_here():
    assert set(WRITTEN) == set(FIELDS)


async def test_every_field_is_stored_sealed_under_its_entry(world, gql, runtime):
    owner, known = await _write_secrets(world, gql)
    for field in FIELDS:
        found = await envelopes(runtime, field, owner)
        assert found, f"no envelope of {field.table}.{field.column} where it is stored"
        opened = []
        for envelope in found:
            key = await owner_key(runtime, envelope)
            assert key is not None
            opened.append(envelope.open(key).decode("utf-8"))
        for name in WRITTEN[field]:
            assert any(known[name] in text for text in opened), (field, name)


async def test_scan_detects_a_planted_plaintext(world, gql, settings):
    """The scan itself works: a clear-text title (not encrypted by design) is found."""
    owner = await world.agency()
    title = _marker("title")
    await gql(
        owner.token,
        OPEN,
        {"i": {"reference": "R", "title": title, "summary": "s", "category": "FRAUD"}},
    )
    assert title.encode() in _database_bytes(settings.database_url)
