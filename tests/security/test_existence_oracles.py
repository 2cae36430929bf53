"""Existence oracles in mutations, generated from the schema: for every mutation and every ID
argument (the IDOR matrix's table, which a new ID-taking mutation must join), an id of an
object the caller cannot see is answered exactly as a random well-formed id of the same type
naming nothing. Same HTTP status and top-level shape, same payload (`errors` code, field and
message included), nothing written but the refusal's own audit event, and that event the same
in everything the caller's agency can read of it (and in everything else, but the id sent).

Callers: an unrelated agency, which sees none of the owner's objects, and the agency the case
is shared with at METADATA level, for the arguments whose object it cannot see either (the
requests; where it sees the object, FORBIDDEN on roles or access is the honest answer).
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel, col

from casehub.api.ids import parse_global_id
from casehub.domain.errors import ValidationFailed
from casehub.persistence.tables import AuditEventRow
from casehub.services.runtime import Runtime, open_scope
from tests.security import test_idor_matrix as idor

# The IDOR matrix's world: the owner's populated, shared and requested case, and its callers.
matrix = idor.matrix
client_of_matrix = idor.client_of_matrix

# (mutation(argument), caller) for every argument naming an object the caller cannot see.
CASES = [
    (key, caller)
    for key, attempt in idor.MUTATIONS.items()
    for caller in ("unrelated", "metadata")
    if caller == "unrelated" or attempt.metadata != idor.FORBIDDEN
]


def test_every_id_argument_of_every_mutation_is_compared() -> None:
    """A mutation or ID argument added to the schema without a row in the IDOR matrix's
    MUTATIONS fails here (and there)."""
    compared = {key for key, caller in CASES if caller == "unrelated"}
    assert idor._id_taking(idor.SCHEMA.mutation_type) == compared


async def _counts(runtime: Runtime) -> dict[str, int]:
    """Rows in every table."""
    async with open_scope(runtime) as scope:
        counts = {}
        for table in SQLModel.metadata.sorted_tables:
            statement = select(func.count()).select_from(table)
            counts[table.name] = (await scope.store.session.execute(statement)).scalar_one()
        return counts


async def _last_seq(runtime: Runtime) -> int:
    async with open_scope(runtime) as scope:
        statement = select(func.coalesce(func.max(col(AuditEventRow.seq)), 0))
        last: Any = (await scope.store.session.execute(statement)).scalar_one()
        return int(last)


async def _events_after(runtime: Runtime, seq: int, sent: set[UUID]) -> list[dict[str, Any]]:
    """The audit events chained after `seq`, each as stored, less what differs by nature (its
    own id, position, time and transaction), with the ids the caller sent replaced by a marker."""
    async with open_scope(runtime) as scope:
        rows = await scope.store.audit_log(after_seq=seq)
    events = []
    for row in rows:
        content = row.model_dump(exclude={"seq", "id", "occurred_at", "txid", "leaf_index"})
        text = json.dumps(content, default=str, sort_keys=True)
        for object_id in sent:
            text = text.replace(str(object_id), "<sent>").replace(object_id.hex, "<sent>")
        events.append(json.loads(text))
    return events


def _sent_ids(value: Any) -> set[UUID]:
    """The object ids in an input, at any depth."""
    if isinstance(value, dict):
        return set().union(*(_sent_ids(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_sent_ids(item) for item in value))
    if isinstance(value, str):
        try:
            return {parse_global_id(value)[1]}
        except ValidationFailed:  # not an id: plain text of the input
            return set()
    return set()


async def _attempt(
    matrix: idor.Matrix,
    runtime: Runtime,
    key: str,
    caller: idor.Caller,
    data: dict[str, Any],
    sent: set[UUID],
) -> tuple[int, dict[str, Any], list[dict[str, Any]], dict[str, int]]:
    """One call: its status, body, the audit events it chained (`sent` ids masked), and the
    row counts after."""
    name = key.split("(")[0]
    seq = await _last_seq(runtime)
    response = await matrix.gql.http.post(
        "/graphql",
        json={"query": idor._mutation(name), "variables": {"input": data}},
        headers={"Authorization": f"Bearer {caller.token}"},
    )
    events = await _events_after(runtime, seq, sent)
    return response.status_code, response.json(), events, await _counts(runtime)


@pytest.mark.parametrize(("key", "caller"), CASES)
async def test_a_hidden_id_is_answered_as_a_missing_one(
    matrix: idor.Matrix, runtime: Runtime, key: str, caller: str
) -> None:
    who = matrix.callers[caller]
    # The owner's reads are audited themselves: count the rows after them.
    before = await idor._owner_snapshot(matrix)
    before_counts = await _counts(runtime)
    build = idor.MUTATIONS[key].build
    hidden_input, missing_input = build(matrix.victim, who), build(matrix.victim.ghost(), who)
    # The ids that differ between the two inputs: the hidden object's and the random one.
    hidden_ids, missing_ids = _sent_ids(hidden_input), _sent_ids(missing_input)
    status, hidden, hidden_events, hidden_counts = await _attempt(
        matrix, runtime, key, who, hidden_input, hidden_ids - missing_ids
    )
    ghost_status, missing, missing_events, missing_counts = await _attempt(
        matrix, runtime, key, who, missing_input, missing_ids - hidden_ids
    )
    assert await idor._owner_snapshot(matrix) == before
    # The very same answer: status, top-level shape, payload (errors' code, field, message).
    assert (status, hidden) == (ghost_status, missing)
    name = key.split("(")[0]
    assert "errors" not in hidden, hidden
    (error,) = hidden["data"][name]["errors"]
    assert error["code"] == getattr(idor.MUTATIONS[key], caller), error
    # Nothing written but the refusal's audit event (none where the id is refused as malformed
    # before any service runs), alike but for the id sent.
    events = len(hidden_events)
    added = {table: hidden_counts[table] - before_counts[table] for table in before_counts}
    assert events <= 1
    assert added == {
        table: (events if table == AuditEventRow.__tablename__ else 0) for table in added
    }, added
    assert {
        table: missing_counts[table] - hidden_counts[table] for table in missing_counts
    } == added
    assert hidden_events == missing_events
    for event in hidden_events:
        assert event["outcome"] == error["code"]
        assert str(matrix.victim.owner.uuid) not in json.dumps(event), event
