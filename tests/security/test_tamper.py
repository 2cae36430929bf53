"""Ciphertext moved inside the database never decrypts: the reader gets a masked error, never
another row's plaintext."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from casehub.api.ids import parse_global_id

OPEN = """mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } errors { message } } }"""
SUBJECT = """mutation($i: AddSubjectInput!) {
  addSubject(input: $i) { subject { id } errors { message } } }"""
READ_CASE = """query($id: ID!) { node(id: $id) { ... on Case { title summary } } }"""
READ_SUBJECT = """query($id: ID!) { node(id: $id) { ... on Subject { displayName } } }"""


async def _case(gql, token: str, summary: str) -> str:
    body = await gql(
        token,
        OPEN,
        {"i": {"reference": summary, "title": "T", "summary": summary, "category": "FRAUD"}},
    )
    return str(body["data"]["openCase"]["case"]["id"])


async def _execute(runtime, statement: str, **params) -> None:
    async with runtime.database.engine.begin() as connection:
        await connection.execute(text(statement), params)


def _uuid(global_id: str) -> object:
    return parse_global_id(global_id)[1]


def _hex(value: object, dialect: str) -> object:
    # SQLite stores UUIDs as 32 hex characters; PostgreSQL has a uuid type.
    return value.hex if dialect == "sqlite" else value  # type: ignore[attr-defined]


@pytest.mark.parametrize("source", ["same agency", "other agency"])
async def test_summary_copied_between_cases_fails_opaquely(world, gql, runtime, source):
    owner = await world.agency()
    other = owner if source == "same agency" else await world.agency()
    victim = await _case(gql, owner.token, "victim summary")
    donor = await _case(gql, other.token, "donor secret summary")
    dialect = runtime.database.dialect
    await _execute(
        runtime,
        "UPDATE case_file SET summary = (SELECT summary FROM case_file WHERE id = :donor)"
        " WHERE id = :victim",
        donor=_hex(_uuid(donor), dialect),
        victim=_hex(_uuid(victim), dialect),
    )
    body = await gql(owner.token, READ_CASE, {"id": victim})
    assert body["data"]["node"] == {"title": "T", "summary": None}
    assert body["errors"][0]["message"] == "Unexpected error."
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert "donor" not in str(body)
    assert "victim summary" not in str(body)


async def test_value_swapped_between_columns_fails_opaquely(world, gql, runtime):
    owner = await world.agency()
    case_id = await _case(gql, owner.token, "column swap")
    added = await gql(
        owner.token,
        SUBJECT,
        {"i": {"caseId": case_id, "kind": "PERSON", "displayName": "Jane Roe"}},
    )
    subject_id = added["data"]["addSubject"]["subject"]["id"]
    dialect = runtime.database.dialect
    await _execute(
        runtime,
        "UPDATE subject SET display_name = (SELECT summary FROM case_file WHERE id = :case)"
        " WHERE id = :subject",
        case=_hex(_uuid(case_id), dialect),
        subject=_hex(_uuid(subject_id), dialect),
    )
    body = await gql(owner.token, READ_SUBJECT, {"id": subject_id})
    assert body["data"]["node"] == {"displayName": None}
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert "column swap" not in str(body)
