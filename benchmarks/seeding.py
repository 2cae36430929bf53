"""Seeds a target through casehub's own use-cases: agencies, tokens, cases and requests, and
the first owner's accredited signing keys (one of each algorithm) for the submit workloads.

Cases go through the services one by one (what an agency tool would do over the API, audit
and identifier indexes included) unless `bulk` is asked for, which writes them in batches with
casehub's crypto (benchmarks.bulk) for the 100,000-case runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from benchmarks import bulk as bulk_seeder
from benchmarks.console import say
from benchmarks.databases import Target
from benchmarks.dataset import (
    OWNERS,
    READER,
    AgencySpec,
    case_spec,
    request_count,
    request_spec,
)
from benchmarks.documents import manifest
from benchmarks.signing import Submitter, accredited_keys
from casehub.app import build_runtime
from casehub.domain.enums import Role, ShareScope
from casehub.domain.requests.transitions import Priority, RequestAction, RequestKind
from casehub.services.agencies import agencies, auth
from casehub.services.cases import cases, sharing, subjects
from casehub.services.documents import add_manifest
from casehub.services.requests import lifecycle, transitions
from casehub.services.runtime import Principal, Runtime, open_scope

ROLES = (Role.READER, Role.INVESTIGATOR, Role.LIAISON_OFFICER, Role.AGENCY_ADMIN)
PROGRESS_EVERY = 10
# The owner the submit workloads send their requests to: a LAW_ENFORCEMENT agency, so the
# default signing policy does not require a ROUTINE request's submission to be signed.
SUBMITTED_TO = 2


@dataclass(frozen=True, slots=True)
class Tokens:
    """Bearer tokens the workloads use: the reader's (cases page, inbox, hit check) and an
    owner's (writes)."""

    reader: str
    writer: str


@dataclass(frozen=True, slots=True)
class Actors:
    """The seeded agencies' principals, as the use-cases take them."""

    owners: tuple[Principal, ...]
    reader: Principal


async def _agency(runtime: Runtime, spec: AgencySpec) -> tuple[Principal, str]:
    async with open_scope(runtime) as scope:
        await agencies.register_agency(
            scope,
            code=spec.code,
            name=spec.name,
            jurisdiction=spec.jurisdiction,
            kind=spec.kind,
            as_operator=True,
        )
        _id, token = await auth.issue_token(
            scope, agency_code=spec.code, roles=ROLES, principal_name="bench-tool"
        )
        principal = await auth.authenticate(runtime, scope, f"Bearer {token}")
    return principal, token


def _progress(what: str, done: int, total: int) -> None:
    step = max(1, total // PROGRESS_EVERY)
    if done % step == 0 or done == total:
        say(f"  seeded {done:,}/{total:,} {what}")


async def _seed_case(runtime: Runtime, actors: Actors, number: int) -> None:
    spec = case_spec(number)
    async with open_scope(runtime, actors.owners[spec.owner]) as scope:
        opened = await cases.open_case(
            scope,
            reference=spec.reference,
            title=spec.title,
            summary=spec.summary,
            category=spec.category,
            tlp=spec.tlp,
            handling_code=spec.handling,
        )
        for subject in spec.subjects:
            await subjects.add_subject(
                scope,
                case_id=opened.id,
                kind=subject.kind,
                display_name=subject.name,
                identifiers=subject.identifiers,
            )
        await sharing.share_case(
            scope, case_id=opened.id, agency_id=actors.reader.agency_id, share_scope=ShareScope.FULL
        )


async def _seed_request(runtime: Runtime, actors: Actors, number: int) -> None:
    spec = request_spec(number)
    async with open_scope(runtime, actors.owners[spec.owner]) as scope:
        row = await lifecycle.create_request(
            scope,
            requested_agency_id=actors.reader.agency_id,
            kind=RequestKind.INFORMATION_REQUEST,
            priority=Priority.ROUTINE,
            title=spec.title,
            body=spec.body,
        )
        await transitions.transition(scope, request_id=row.id, action=RequestAction.SUBMIT)
    if spec.acknowledged:
        async with open_scope(runtime, actors.reader) as scope:
            await transitions.transition(scope, request_id=row.id, action=RequestAction.ACKNOWLEDGE)


async def seed(target: Target, *, cases: int, bulk: bool) -> tuple[Tokens, Submitter]:
    """Register the agencies, issue their tokens, accredit the writer's signing keys, and load
    the cases and requests."""
    runtime = build_runtime(target.settings())
    try:
        owners = [await _agency(runtime, spec) for spec in OWNERS]
        reader, reader_token = await _agency(runtime, READER)
        actors = Actors(tuple(principal for principal, _token in owners), reader)
        writer = actors.owners[0]
        submitter = Submitter(
            agency=writer.agency_id,
            principal=writer.id,
            keys=await accredited_keys(runtime, writer),
            requested=actors.owners[SUBMITTED_TO].agency_id,
        )
        if bulk:
            await bulk_seeder.seed_cases(runtime, actors.owners, reader, cases)
        else:
            for number in range(cases):
                await _seed_case(runtime, actors, number)
                _progress("cases", number + 1, cases)
        total = request_count(cases)
        for number in range(total):
            await _seed_request(runtime, actors, number)
            _progress("cooperation requests", number + 1, total)
        await add_manifest(runtime, manifest())
        # Planner statistics as a settled database has them, not those of an empty one.
        async with runtime.database.engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
    finally:
        await runtime.database.dispose()
    return Tokens(reader=reader_token, writer=owners[0][1]), submitter
