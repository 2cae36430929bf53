"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from sqlmodel import SQLModel

from casehub.domain.enums import (
    AgencyKind,
    CaseCategory,
    HandlingCode,
    IdentifierKind,
    SubjectKind,
    Tlp,
)
from casehub.domain.identifiers import IdentifierInput
from casehub.persistence.tables import (
    AgencyRow,
    ApiTokenRow,
    CaseRow,
    CaseShareRow,
    CooperationRequestRow,
    CustodyEventRow,
    DataKeyWrapRow,
    EvidenceRow,
    FederationInboxRow,
    FederationOutboxRow,
    FederationPeerRow,
    HitCheckRow,
    HitNoticeRow,
    IdentifierIndexRow,
    IdentifierRow,
    PrincipalRow,
    RegisteredDocumentRow,
    RemoteSigningKeyRow,
    SubjectRow,
)
from casehub.services.agencies import agencies
from casehub.services.agencies.auth import authenticate
from casehub.services.audit import log as audit_log
from casehub.services.cases import cases, subjects
from casehub.services.runtime import Runtime, Scope, open_scope

# The tables a refusal must leave alone (the audit log records refusals by design).
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
    CooperationRequestRow,
    HitCheckRow,
    HitNoticeRow,
    RegisteredDocumentRow,
    FederationPeerRow,
    FederationInboxRow,
    FederationOutboxRow,
    RemoteSigningKeyRow,
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


async def seed_cases(runtime: Runtime, token: str, count: int, prefix: str) -> list[UUID]:
    """`count` AMBER cases of the token's agency through the real use-cases, each with one
    person holding a phone number and an e-mail address; their ids, in order."""
    ids = []
    async with open_scope(runtime) as scope:
        scope.principal = await authenticate(runtime, scope, f"Bearer {token}")
        for number in range(count):
            case = await cases.open_case(
                scope,
                reference=f"{prefix}-{number}",
                title=f"Case {number}",
                summary=f"summary {number}",
                category=CaseCategory.FRAUD,
                tlp=Tlp.AMBER,
                handling_code=HandlingCode.H0,
            )
            await subjects.add_subject(
                scope,
                case_id=case.id,
                kind=SubjectKind.PERSON,
                display_name=f"Person {number}",
                identifiers=[
                    IdentifierInput(IdentifierKind.PHONE, f"+6012345{number:04d}"),
                    IdentifierInput(IdentifierKind.EMAIL, f"p{number}@example.org"),
                ],
            )
            ids.append(case.id)
    return ids


async def integrate_everything(runtime: Runtime) -> int:
    """Run the audit sequencer until every committed entry is in the tree (within 30 s); the
    tree's size.

    The commit-safe horizon is cluster-wide on PostgreSQL: a transaction held open by a test
    running beside this one (another worker) delays integration, never skips anything."""
    async with asyncio.timeout(30):
        while True:
            done = await audit_log.integrate_all(runtime)
            async with open_scope(runtime) as scope:
                pending = await scope.store.count_pending_audit_events()
            if done.leader and not pending:
                return done.size
            await asyncio.sleep(0.05)
