"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlmodel import SQLModel

from casehub.domain.enums import AgencyKind
from casehub.persistence.tables import (
    AgencyRow,
    ApiTokenRow,
    CaseRow,
    CaseShareRow,
    CustodyEventRow,
    DataKeyWrapRow,
    EvidenceRow,
    HitCheckRow,
    HitNoticeRow,
    IdentifierIndexRow,
    IdentifierRow,
    PrincipalRow,
    SubjectRow,
)
from casehub.services.agencies import agencies
from casehub.services.runtime import Runtime, Scope, open_scope

# Every table but the audit log, which records refusals by design.
TABLES: tuple[type[SQLModel], ...] = (
    AgencyRow,
    PrincipalRow,
    ApiTokenRow,
    CaseRow,
    DataKeyWrapRow,
    SubjectRow,
    IdentifierRow,
    IdentifierIndexRow,
    EvidenceRow,
    CustodyEventRow,
    CaseShareRow,
    HitCheckRow,
    HitNoticeRow,
)


async def row_counts(runtime: Runtime) -> dict[str, int]:
    """Rows in every table except the audit log."""
    async with open_scope(runtime) as scope:
        return {model.__name__: await scope.store.count_rows(model) for model in TABLES}


@asynccontextmanager
async def nothing_written(runtime: Runtime) -> AsyncIterator[None]:
    """Assert that the block leaves every table (but the audit log) as it was."""
    before = await row_counts(runtime)
    yield
    assert await row_counts(runtime) == before


async def register(scope: Scope, code: str) -> None:
    """Register a law-enforcement agency as the operator would; its jurisdiction is the code's
    first two letters (MY-PDRM: MY)."""
    await agencies.register_agency(
        scope,
        code=code,
        name=f"Agency {code}",
        jurisdiction=code[:2],
        kind=AgencyKind.LAW_ENFORCEMENT,
        as_operator=True,
    )
