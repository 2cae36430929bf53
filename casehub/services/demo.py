"""The demo scenario: loads the data of demo_data through the real use-cases, prints tokens."""

from __future__ import annotations

from datetime import timedelta

from casehub.domain.enums import Role
from casehub.domain.identifiers import IdentifierInput
from casehub.services import agencies, auth, cases, evidence, sharing, subjects
from casehub.services.demo_data import AGENCIES, CASES
from casehub.services.runtime import Runtime, Scope, open_scope

DEMO_ROLES = (Role.READER, Role.INVESTIGATOR, Role.LIAISON_OFFICER, Role.AGENCY_ADMIN)
DEMO_PRINCIPAL = "demo-console"


async def _act_as(runtime: Runtime, scope: Scope, code: str) -> None:
    """Give the scope a principal of the agency through a real token."""
    _id, token = await auth.issue_token(
        scope,
        agency_code=code,
        roles=DEMO_ROLES,
        principal_name="demo-loader",
        expires_at=scope.now + timedelta(minutes=5),
    )
    scope.principal = await auth.authenticate(runtime, scope, f"Bearer {token}")
    scope.grants.clear()
    scope.keys.clear()


async def _seed(runtime: Runtime, scope: Scope) -> None:
    ids = {}
    for code, name, jurisdiction, kind, timezone in AGENCIES:
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
    for case in CASES:
        await _act_as(runtime, scope, case.owner)
        opened = await cases.open_case(
            scope,
            reference=case.reference,
            title=case.title,
            summary=case.summary,
            category=case.category,
            tlp=case.tlp,
            handling_code=case.handling,
        )
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
            for action, note in item.custody:
                await evidence.record_custody_event(
                    scope, evidence_id=added.id, action=action, note=note
                )
        for code, share_scope in case.shares:
            await sharing.share_case(
                scope, case_id=opened.id, agency_id=ids[code], share_scope=share_scope
            )


async def load(runtime: Runtime) -> dict[str, str]:
    """Load the scenario unless it is there already; issue one fresh token per agency."""
    async with open_scope(runtime) as scope:
        if await agencies.agency_by_code(scope, AGENCIES[0][0]) is None:
            await _seed(runtime, scope)
        scope.principal = None
        tokens = {}
        for code, *_rest in AGENCIES:
            _id, tokens[code] = await auth.issue_token(
                scope,
                agency_code=code,
                roles=DEMO_ROLES,
                principal_name=DEMO_PRINCIPAL,
                expires_at=scope.now + timedelta(days=30),
            )
        return tokens


EXAMPLES = (
    ("Your agency and roles", "{ viewer { name roles agency { code name } } }"),
    (
        "Your cases and the ones shared with you",
        "{ cases(first: 5) { totalCount edges { node { id reference title viewerAccess summary "
        "owner { code } subjects { displayName identifiers { kind value platform chain } } } } } }",
    ),
    (
        "Open a case",
        'mutation { openCase(input: {reference: "DEMO-1", title: "Test case", '
        'summary: "Secret summary", category: FRAUD, tlp: AMBER, handlingCode: H0}) '
        "{ case { id version } errors { code field message } } }",
    ),
)


def welcome(tokens: dict[str, str], url: str) -> str:
    """What `casehub demo` prints: tokens per agency and example queries."""
    lines = [
        "",
        f"casehub demo is ready. GraphiQL: {url}",
        'Set the header {"Authorization": "Bearer <token>"} in GraphiQL\'s Headers tab.',
        "",
        "Tokens (valid 30 days; roles READER, INVESTIGATOR, LIAISON_OFFICER, AGENCY_ADMIN):",
    ]
    lines += [f"  {code:<15} {token}" for code, token in tokens.items()]
    lines += ["", "Try:"]
    for title, query in EXAMPLES:
        body = query.replace('"', '\\"')
        lines += [
            f"  # {title}",
            f"  curl -s {url} -H 'Authorization: Bearer {tokens[AGENCIES[0][0]]}' \\",
            f"       -H 'Content-Type: application/json' -d '{{\"query\": \"{body}\"}}'",
            "",
        ]
    return "\n".join(lines)
