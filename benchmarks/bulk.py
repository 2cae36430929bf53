"""Bulk seeding of cases for the large runs: the rows the use-cases would write (case, data-key
wraps for the owner and the reader, FULL share, subjects, identifiers and their index), sealed
and wrapped with casehub's crypto as the services do, inserted in batches without audit links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table

from benchmarks.console import say
from benchmarks.dataset import OWNERS, CaseSpec, case_spec
from benchmarks.rows import case_row, identifier_rows, subject_row, wrap_row
from benchmarks.tables import CASE, IDENTIFIER, IDENTIFIER_INDEX, SHARE, SUBJECT, WRAP
from casehub.crypto import KeyProvider, new_data_key
from casehub.domain.enums import ShareScope
from casehub.domain.ids import new_id
from casehub.services.runtime import Principal, Runtime

BATCH = 2_000
TABLES = (CASE, WRAP, SHARE, SUBJECT, IDENTIFIER, IDENTIFIER_INDEX)  # parents first


def _stage(
    rows: dict[Table, list[dict[str, Any]]],
    keys: KeyProvider,
    spec: CaseSpec,
    owner: Principal,
    reader: Principal,
    now: datetime,
) -> None:
    """Add one case and everything its use-cases would write with it."""
    key = new_data_key(new_id())
    agency = owner.agency_id
    fields = {
        "reference": spec.reference,
        "title": spec.title,
        "summary": spec.summary,
        "category": spec.category.value,
        "tlp": spec.tlp.value,
        "handling_code": spec.handling.value,
    }
    rows[CASE].append(case_row(key, owner=agency, created_by=owner.id, fields=fields, now=now))
    rows[WRAP] += [wrap_row(keys, key, agency, now), wrap_row(keys, key, reader.agency_id, now)]
    rows[SHARE].append(
        {
            "id": new_id(),
            "case_id": key.scope_id,
            "agency_id": reader.agency_id,
            "scope": ShareScope.FULL.value,
            "created_by": owner.id,
            "created_at": now,
        }
    )
    for subject in spec.subjects:
        subject_id = new_id()
        rows[SUBJECT].append(
            subject_row(
                key,
                subject_id=subject_id,
                owner=agency,
                kind=subject.kind.value,
                name=subject.name,
                now=now,
            )
        )
        identifiers, index = identifier_rows(
            keys,
            key,
            subject_id=subject_id,
            owner=agency,
            given=subject.identifiers,
            region=OWNERS[spec.owner].jurisdiction,
            now=now,
        )
        rows[IDENTIFIER] += identifiers
        rows[IDENTIFIER_INDEX] += index


async def seed_cases(
    runtime: Runtime, owners: Sequence[Principal], reader: Principal, cases: int
) -> None:
    """Write `cases` cases in batches, each batch in one transaction."""
    for start in range(0, cases, BATCH):
        rows: dict[Table, list[dict[str, Any]]] = {table: [] for table in TABLES}
        now = datetime.now(UTC)
        for number in range(start, min(start + BATCH, cases)):
            spec = case_spec(number)
            _stage(rows, runtime.keys, spec, owners[spec.owner], reader, now)
        async with runtime.database.engine.begin() as connection:
            for table in TABLES:
                await connection.execute(table.insert(), rows[table])
        say(f"  seeded {min(start + BATCH, cases):,}/{cases:,} cases (bulk)")
