"""The demo scenario: loads the data of demo_data through the real use-cases, prints tokens.

Every step runs as a principal of the agency that takes it, on a clock set back to when the
scenario says it happened: the cases were opened 60 days ago, and the cooperation requests'
steps are replayed in the order they happened (so their deadlines, and the MLA that is
overdue, follow from the real deadline rules).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.demo import signing
from casehub.demo.data import (
    AGENCIES,
    CASES,
    REQUESTS,
    DemoCase,
    DemoParticulars,
    DemoRequest,
)
from casehub.domain.enums import AgencyKind, Role
from casehub.domain.identifiers import IdentifierInput
from casehub.domain.requests.content import Particulars
from casehub.domain.requests.transitions import TRANSITIONS, RequestAction, RequestStatus, Side
from casehub.services.agencies import agencies, auth
from casehub.services.cases import cases, custody, evidence, sharing, subjects
from casehub.services.requests import lifecycle, messages, transitions
from casehub.services.runtime import Principal, Runtime, Scope, open_scope

DEMO_ROLES = (Role.READER, Role.INVESTIGATOR, Role.LIAISON_OFFICER, Role.AGENCY_ADMIN)
DEMO_PRINCIPAL = "demo-console"
# The second pair of eyes on emergency requests to the platform (issue tokens for it to try).
SUPERVISOR = "demo-supervisor"
KEYS_ACCREDITED_AGO = timedelta(days=90)
CASES_OPENED_AGO = timedelta(days=60)


@contextmanager
def _ago(scope: Scope, runtime: Runtime, span: timedelta) -> Iterator[None]:
    """Run the scope's use-cases on a clock `span` behind the real one."""

    def clock() -> datetime:
        return runtime.clock() - span

    scope.runtime = replace(runtime, clock=clock)
    try:
        yield
    finally:
        scope.runtime = runtime


async def _act_as(
    runtime: Runtime,
    scope: Scope,
    code: str,
    loaders: dict[str, Principal],
    supervisor: bool = False,
) -> None:
    """Give the scope a principal of the agency through a real token (one per agency, and one
    supervisor, another principal, for approvals)."""
    name = SUPERVISOR if supervisor else "demo-loader"
    principal = loaders.get(f"{code}/{name}")
    if principal is None:
        _id, token = await auth.issue_token(
            scope,
            agency_code=code,
            roles=(Role.SUPERVISOR,) if supervisor else DEMO_ROLES,
            principal_name=name,
            expires_at=scope.now + timedelta(minutes=5),
        )
        principal = await auth.authenticate(runtime, scope, f"Bearer {token}")
        loaders[f"{code}/{name}"] = principal
    scope.principal = principal
    scope.grants.clear()
    scope.keys.clear()


@dataclass(frozen=True)
class Scenario:
    """The part of the demo one hub loads: its agencies, their cases (shared only among
    them) and the requests between them."""

    agencies: list[tuple[str, str, str, AgencyKind, str]]
    cases: list[DemoCase]
    requests: list[DemoRequest]


def scenario(codes: Collection[str] | None = None) -> Scenario:
    """The whole demo, or the part whose every party is one of `codes` (a federated hub's:
    until requests and shares cross between hubs, the rest cannot be loaded there)."""
    if codes is None:
        return Scenario(AGENCIES, CASES, REQUESTS)
    cases = [
        replace(case, shares=[share for share in case.shares if share[0] in codes])
        for case in CASES
        if case.owner in codes
    ]
    loaded = {case.reference for case in cases}
    requests = [
        request
        for request in REQUESTS
        if request.requester in codes
        and request.requested in codes
        and (request.case is None or request.case in loaded)
        and all(ref in loaded for step in request.steps for ref, _title in step.supplied)
    ]
    return Scenario([row for row in AGENCIES if row[0] in codes], cases, requests)


async def _seed(runtime: Runtime, scope: Scope, part: Scenario) -> None:
    ids: dict[str, UUID] = {}
    case_ids: dict[str, UUID] = {}
    evidence_ids: dict[tuple[str, str], UUID] = {}
    loaders: dict[str, Principal] = {}
    keys: dict[str, AgencyPrivateKey] = {}
    for code, name, jurisdiction, kind, timezone in part.agencies:
        view = await agencies.register_agency(
            scope,
            code=code,
            name=name,
            jurisdiction=jurisdiction,
            kind=kind,
            timezone=timezone,
            as_operator=True,
        )
        ids[code] = view.id
        await _act_as(runtime, scope, code, loaders)
        with _ago(scope, runtime, KEYS_ACCREDITED_AGO):
            keys[code] = await signing.accredited_key(scope, runtime.settings.keyring, code)
    for case in part.cases:
        await _act_as(runtime, scope, case.owner, loaders)
        with _ago(scope, runtime, CASES_OPENED_AGO):
            await _seed_case(scope, case, ids, case_ids, evidence_ids)
    await _seed_requests(runtime, scope, part.requests, loaders, keys, ids, case_ids, evidence_ids)


async def _seed_case(
    scope: Scope,
    case: DemoCase,
    ids: dict[str, UUID],
    case_ids: dict[str, UUID],
    evidence_ids: dict[tuple[str, str], UUID],
) -> None:
    opened = await cases.open_case(
        scope,
        reference=case.reference,
        title=case.title,
        summary=case.summary,
        category=case.category,
        tlp=case.tlp,
        handling_code=case.handling,
    )
    case_ids[case.reference] = opened.id
    for subject in case.subjects:
        await subjects.add_subject(
            scope,
            case_id=opened.id,
            kind=subject.kind,
            display_name=subject.name,
            identifiers=[
                IdentifierInput(kind, value, platform, chain)
                for kind, value, platform, chain in subject.identifiers
            ],
        )
    for item in case.evidence:
        added = await evidence.add_evidence(
            scope,
            case_id=opened.id,
            kind=item.kind,
            title=item.title,
            description=item.description,
            content=item.content,
            sha256=item.sha256,
            size_bytes=item.size_bytes,
            media_type=item.media_type,
            collected_at=scope.now - timedelta(days=30),
            source_reliability=item.reliability,
            information_accuracy=item.accuracy,
            handling_code=case.handling,
        )
        evidence_ids[(case.reference, item.title)] = added.id
        for action, note in item.custody:
            await custody.record_custody_event(
                scope, evidence_id=added.id, action=action, note=note
            )
    for code, share_scope in case.shares:
        await sharing.share_case(
            scope, case_id=opened.id, agency_id=ids[code], share_scope=share_scope
        )


def _particulars(data: DemoParticulars) -> Particulars:
    return Particulars(
        offence=data.offence,
        data_to_preserve=data.data_to_preserve,
        custodian_or_location=data.custodian_or_location,
        follow_up_mla=data.follow_up_mla,
        imminent_threat=data.imminent_threat,
        account_identifiers=tuple(
            IdentifierInput(kind, value, platform, chain)
            for kind, value, platform, chain in data.account_identifiers
        ),
        content_locations=tuple(data.content_locations),
    )


async def _seed_requests(
    runtime: Runtime,
    scope: Scope,
    requests: list[DemoRequest],
    loaders: dict[str, Principal],
    keys: dict[str, AgencyPrivateKey],
    ids: dict[str, UUID],
    case_ids: dict[str, UUID],
    evidence_ids: dict[tuple[str, str], UUID],
) -> None:
    """Replay every request's creation and steps in the order they happened, each signable
    step signed by the acting agency; then the insider's overwrites."""
    # (how long ago, request number, step number or -1 for the creation)
    timeline = sorted(
        [(request.created_ago, index, -1) for index, request in enumerate(requests)]
        + [
            (step.ago, index, number)
            for index, request in enumerate(requests)
            for number, step in enumerate(request.steps)
        ],
        key=lambda item: (-item[0], item[1], item[2]),
    )
    made: dict[int, tuple[UUID, RequestStatus]] = {}
    acting: tuple[str, bool] | None = None
    for ago, index, number in timeline:
        request = requests[index]
        if number < 0:
            code = request.requester
        else:
            step = request.steps[number]
            side = step.by if step.action is RequestAction.MESSAGE else None
            if side is None:
                side = TRANSITIONS[(made[index][1], step.action)][0]
            code = request.requester if side is Side.REQUESTER else request.requested
        approving = number >= 0 and request.steps[number].action is RequestAction.APPROVE
        if (code, approving) != acting:
            await _act_as(runtime, scope, code, loaders, supervisor=approving)
            acting = (code, approving)
        with _ago(scope, runtime, ago):
            if number < 0:
                made[index] = await _create(scope, request, ids, case_ids, evidence_ids)
                continue
            request_id = made[index][0]
            if step.action is RequestAction.MESSAGE:
                await messages.add_message(scope, request_id=request_id, body=step.text or "")
                continue
            supplied = [evidence_ids[item] for item in step.supplied]
            view = await transitions.transition(
                scope,
                request_id=request_id,
                action=step.action,
                text=step.text,
                outcome=step.outcome,
                evidence_ids=supplied,
                signature=await signing.step_signature(
                    scope,
                    keys[code],
                    request_id,
                    step.action,
                    text=step.text,
                    outcome=step.outcome,
                    supplied=supplied,
                ),
            )
            made[index] = (request_id, view.status)
    for index, request in enumerate(requests):
        if request.overwritten is not None:
            # Straight into the database, past every check: what an insider could do.
            request_id, _status = made[index]
            row = (await scope.store.requests_by_ids([request_id]))[0]
            await scope.store.update_request_if_version(
                request_id, row.version, {"priority": request.overwritten.value}
            )


async def _create(
    scope: Scope,
    request: DemoRequest,
    ids: dict[str, UUID],
    case_ids: dict[str, UUID],
    evidence_ids: dict[tuple[str, str], UUID],
) -> tuple[UUID, RequestStatus]:
    view = await lifecycle.create_request(
        scope,
        requested_agency_id=ids[request.requested],
        kind=request.kind,
        priority=request.priority,
        title=request.title,
        body=request.body,
        legal_basis=request.legal_basis,
        particulars=_particulars(request.particulars),
        case_id=case_ids[request.case] if request.case else None,
        evidence_ids=[evidence_ids[(request.case or "", title)] for title in request.attached],
    )
    return view.id, view.status


async def load(runtime: Runtime, codes: Collection[str] | None = None) -> dict[str, str]:
    """Load the scenario (or the part of it among `codes`, see `scenario`) unless it is there
    already; issue one fresh token per agency."""
    part = scenario(codes)
    async with open_scope(runtime) as scope:
        if await agencies.agency_by_code(scope, part.agencies[0][0]) is None:
            await _seed(runtime, scope, part)
        scope.principal = None
        tokens = {}
        for code, *_rest in part.agencies:
            _id, tokens[code] = await auth.issue_token(
                scope,
                agency_code=code,
                roles=DEMO_ROLES,
                principal_name=DEMO_PRINCIPAL,
                expires_at=scope.now + timedelta(days=30),
            )
        return tokens


# (title, query, the agency whose token it uses: the first one when None)
EXAMPLES: tuple[tuple[str, str, str | None], ...] = (
    ("Your agency and roles", "{ viewer { name roles agency { code name } } }", None),
    (
        "Your cases and the ones shared with you",
        "{ cases(first: 5) { totalCount edges { node { id reference title viewerAccess summary "
        "owner { code } subjects { displayName identifiers { kind value platform chain } } } } } }",
        None,
    ),
    (
        "Open a case",
        'mutation { openCase(input: {reference: "DEMO-1", title: "Test case", '
        'summary: "Secret summary", category: FRAUD, tlp: AMBER, handlingCode: H0}) '
        "{ case { id version } errors { code field message } } }",
        None,
    ),
    (
        "Which other agencies hold this wallet? (hit/no-hit; they are told you asked)",
        'mutation { hitCheck(identifiers: [{kind: CRYPTO_WALLET, chain: "tron", '
        'value: "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"}]) '
        "{ results { kind hits { caseCount agency { code name } } } errors { code message } } }",
        None,
    ),
    (
        "As the platform: do the signatures on the requests it received check out?",
        "{ cooperationRequests(first: 5, filter: {direction: INCOMING}) { edges { node { title "
        "priority status verification { action status reason signatures { role status "
        "agency { code } key { algorithm state } } } } } } }",
        "AE-RELAYGRAM",
    ),
)


def welcome(tokens: dict[str, str], url: str) -> str:
    """What `casehub demo` prints: tokens per agency and example queries."""
    lines = [
        "",
        f"casehub demo is ready. GraphiQL: {url}",
        "Open it in a browser and paste one of the tokens below when it asks (it keeps the "
        "token in memory only).",
        "",
        "Tokens (valid 30 days; roles READER, INVESTIGATOR, LIAISON_OFFICER, AGENCY_ADMIN):",
    ]
    lines += [f"  {code:<15} {token}" for code, token in tokens.items()]
    lines += [
        "",
        "Cooperation requests between these agencies are loaded in every state; "
        "`casehub requests overdue` lists the late ones.",
        "Every agency holds an accredited signing key (its private half in "
        f"{signing.DEMO_KEYS}/ beside the keyring, as the agency's tool would hold it) and "
        "signs its steps; AE-RELAYGRAM received one emergency request that checks out and one "
        "whose priority an insider raised in the database, which does not: see the last example.",
        "",
        "Try:",
    ]
    for title, query, code in EXAMPLES:
        body = query.replace('"', '\\"')
        lines += [
            f"  # {title}",
            f"  curl -s {url} -H 'Authorization: Bearer {tokens[code or AGENCIES[0][0]]}' \\",
            f"       -H 'Content-Type: application/json' -d '{{\"query\": \"{body}\"}}'",
            "",
        ]
    return "\n".join(lines)
