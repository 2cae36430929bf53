"""Known secrets written through the API never appear in clear in the database files or dumps."""

from __future__ import annotations

import base64
import secrets
import subprocess

from sqlalchemy.engine import make_url

from casehub.persistence import sqlite_path

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


def _marker(label: str) -> str:
    return f"SECRET-{label}-{secrets.token_hex(8)}"


async def _write_secrets(world, gql) -> list[str]:
    owner = await world.agency()
    partner = await world.agency()
    known = {
        name: _marker(name) for name in ("summary", "name", "handle", "desc", "content", "note")
    }
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
    return list(known.values())


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
    known = await _write_secrets(world, gql)
    stored = _database_bytes(settings.database_url)
    assert stored, "the database dump is empty"
    for secret in known:
        for form in (
            secret.encode(),
            secret.encode("utf-16-le"),
            base64.b64encode(secret.encode()),
        ):
            assert form not in stored, f"{secret} is stored in clear"


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
