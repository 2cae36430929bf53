"""Authentication by bearer token (one answer for every failure, each one audited) and the
roles that gate actions inside what an agency can see."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from casehub.domain.enums import Role
from casehub.persistence.tables import AuditEventRow
from casehub.services.agencies import auth
from casehub.services.runtime import Runtime, open_scope

if TYPE_CHECKING:
    from tests.api.conftest import AgencyHandle, Api

VIEWER = "{ viewer { name roles agency { id code } } }"
UNAUTHENTICATED = {
    "errors": [{"message": "Authentication required.", "extensions": {"code": "UNAUTHENTICATED"}}]
}


async def _post(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/graphql", json={"query": VIEWER}, headers=headers)


async def _audit_rows(runtime: Runtime) -> int:
    async with open_scope(runtime) as scope:
        return await scope.store.count_rows(AuditEventRow)


async def _last_audit_events(runtime: Runtime, count: int) -> list[AuditEventRow]:
    async with open_scope(runtime) as scope:
        return list((await scope.store.audit_log())[-count:])


async def _issue(
    runtime: Runtime, agency: AgencyHandle, *roles: Role, seconds: float | None = None
) -> str:
    async with open_scope(runtime) as scope:
        expires_at = None if seconds is None else scope.now + timedelta(seconds=seconds)
        _id, token = await auth.issue_token(
            scope, agency_code=agency.code, roles=roles, expires_at=expires_at
        )
    return token


async def test_every_authentication_failure_gets_the_same_401_and_is_audited(
    api: Api, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    agency = await api.agency()
    expiring = await _issue(runtime, agency, Role.READER, seconds=1.0)
    expired_after = asyncio.get_running_loop().time() + 1.0
    revoked = await _issue(runtime, agency, Role.READER)
    for token in (expiring, revoked):
        works = await _post(client, {"Authorization": f"Bearer {token}"})
        assert works.status_code == 200, works.text
        assert works.json()["data"]["viewer"]["agency"]["id"] == agency.id
    async with open_scope(runtime) as scope:
        await auth.revoke_token(scope, token_or_id=revoked)

    attempts: list[dict[str, str]] = [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": f"Token {agency.token}"},
        {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"},
        {"Authorization": f"Bearer {agency.token}x"},
        {"Authorization": f"Bearer {'a' * 2000}"},
        {"Authorization": f"Bearer {revoked}"},
    ]
    for headers in attempts:
        await _refused(client, runtime, headers)

    await asyncio.sleep(max(0.0, expired_after - asyncio.get_running_loop().time()) + 0.05)
    await _refused(client, runtime, {"Authorization": f"Bearer {expiring}"})

    events = await _last_audit_events(runtime, len(attempts) + 1)
    assert [(event.action, event.outcome) for event in events] == [
        ("auth.fail", "UNAUTHENTICATED")
    ] * (len(attempts) + 1)
    for event in events:
        assert event.actor_agency_id is None
        # The audit keeps the reason, never the token that was presented.
        assert expiring not in event.details
        assert revoked not in event.details
        assert agency.token not in event.details


async def _refused(client: httpx.AsyncClient, runtime: Runtime, headers: dict[str, str]) -> None:
    before = await _audit_rows(runtime)
    response = await _post(client, headers)
    assert response.status_code == 401, (headers, response.text)
    assert response.json() == UNAUTHENTICATED, headers
    assert response.headers["www-authenticate"] == "Bearer"
    assert await _audit_rows(runtime) == before + 1, headers


async def _payload(api: Api, token: str, name: str, data: dict[str, Any]) -> str:
    """The error code of a mutation that must be refused."""
    return api.error_code(await api.mutate(token, name, data))


def _new_case(reference: str) -> dict[str, Any]:
    return {"reference": reference, "title": "T", "summary": "S", "category": "FRAUD"}


async def test_reader_may_read_but_not_write(api: Api) -> None:
    agency, other = await api.agency(), await api.agency()
    case = await api.open_case(agency.token)
    reader = agency.tokens["READER"]
    assert await _payload(api, reader, "openCase", _new_case("R-READER")) == "FORBIDDEN"
    subject = {"caseId": case["id"], "kind": "PERSON", "displayName": "X"}
    assert await _payload(api, reader, "addSubject", subject) == "FORBIDDEN"
    share = {"caseId": case["id"], "agencyId": other.id, "scope": "FULL"}
    assert await _payload(api, reader, "shareCase", share) == "FORBIDDEN"
    update = {"id": case["id"], "expectedVersion": case["version"], "title": "New"}
    assert await _payload(api, reader, "updateCase", update) == "FORBIDDEN"
    # Nothing was written, and the reader still reads the case in full.
    assert await api.case_ids(agency.token) == [case["id"]]
    tree = await api.read_case(reader, case["id"])
    assert tree is not None
    assert (tree["version"], tree["subjects"], tree["shares"]) == (case["version"], [], [])
    assert tree["summary"] == api.sample.summary
    assert await api.read_case(other.token, case["id"]) is None


async def test_investigator_without_agency_admin_may_not_share_or_revoke(api: Api) -> None:
    agency, other = await api.agency(), await api.agency()
    case = await api.open_case(agency.tokens["INVESTIGATOR"])
    investigator = agency.tokens["INVESTIGATOR"]
    share = {"caseId": case["id"], "agencyId": other.id, "scope": "METADATA"}
    assert await _payload(api, investigator, "shareCase", share) == "FORBIDDEN"
    share_id = await api.shared(agency.tokens["AGENCY_ADMIN"], case["id"], other.id, "METADATA")
    assert await _payload(api, investigator, "revokeShare", {"shareId": share_id}) == "FORBIDDEN"
    assert await api.case_ids(other.token) == [case["id"]]
    # The investigator may still list the shares of its agency's case.
    tree = await api.read_case(investigator, case["id"])
    assert tree is not None
    assert [(item["id"], item["active"]) for item in tree["shares"]] == [(share_id, True)]


async def test_liaison_officer_and_hub_admin_may_not_work_on_cases(api: Api) -> None:
    agency = await api.agency()
    case = await api.open_case(agency.token)
    for role in ("HUB_ADMIN", "LIAISON_OFFICER"):
        token = agency.tokens[role]
        assert await _payload(api, token, "openCase", _new_case(f"R-{role}")) == "FORBIDDEN"
        evidence = {"caseId": case["id"], "kind": "DOCUMENT", "title": "x", "sha256": "0" * 64}
        assert await _payload(api, token, "addEvidence", evidence) == "FORBIDDEN"
    assert await api.case_ids(agency.token) == [case["id"]]


async def test_register_agency_needs_hub_admin(api: Api) -> None:
    agency = await api.agency()
    code = f"NEW-{secrets.token_hex(3).upper()}"
    data = {"code": code, "name": "New Agency", "jurisdiction": "FR", "kind": "PROSECUTOR"}
    for role in ("all", "READER", "AGENCY_ADMIN"):
        refused = await api.mutate(agency.tokens[role], "registerAgency", data)
        assert api.error_code(refused) == "FORBIDDEN", role
    registered = await api.mutate(agency.tokens["HUB_ADMIN"], "registerAgency", data)
    assert registered["errors"] == [], registered
    assert registered["agency"]["code"] == code
    found = await api.gql(
        agency.token,
        "query($id: ID!) { node(id: $id) { ... on Agency { code name jurisdiction kind } } }",
        {"id": registered["agency"]["id"]},
    )
    assert found["data"]["node"] == {
        "code": code,
        "name": "New Agency",
        "jurisdiction": "FR",
        "kind": "PROSECUTOR",
    }
    again = await api.mutate(agency.tokens["HUB_ADMIN"], "registerAgency", data)
    assert api.error_code(again) == "VALIDATION"


async def test_viewer_returns_the_agency_and_roles(api: Api) -> None:
    agency = await api.agency()
    body = await api.gql(agency.token, VIEWER)
    assert "errors" not in body, body
    assert body["data"] == {
        "viewer": {
            "name": "agency-tool",
            "roles": ["AGENCY_ADMIN", "INVESTIGATOR", "LIAISON_OFFICER", "READER"],
            "agency": {"id": agency.id, "code": agency.code},
        }
    }
    for role in Role:
        viewer = (await api.gql(agency.tokens[role.value], VIEWER))["data"]["viewer"]
        assert viewer == {
            "name": f"{role.value.lower()}-tool",
            "roles": [role.value],
            "agency": {"id": agency.id, "code": agency.code},
        }


async def _token_expiry(runtime: Runtime, token: str) -> Any:
    from casehub.crypto import hash_token

    async with open_scope(runtime) as scope:
        row = await scope.store.token_by_hash(hash_token(token))
        assert row is not None
        return row.expires_at


async def test_every_token_expires_within_the_longest_lifetime(api: Api, runtime: Runtime) -> None:
    """Without an expiry a token gets the default lifetime; none may outlive the longest one,
    and an expiry now or in the past is refused with nothing written."""
    from casehub.domain.errors import ValidationFailed
    from tests.support import nothing_written

    agency = await api.agency()
    settings = runtime.settings
    async with open_scope(runtime) as scope:
        before = scope.now
    token = await _issue(runtime, agency, Role.READER)
    expires_at = await _token_expiry(runtime, token)
    assert expires_at is not None
    default = timedelta(days=settings.token_default_lifetime_days)
    assert before + default <= expires_at.replace(tzinfo=before.tzinfo)
    assert expires_at.replace(tzinfo=before.tzinfo) <= before + default + timedelta(minutes=1)

    longest = timedelta(days=settings.token_max_lifetime_days)
    ok = await _issue(runtime, agency, Role.READER, seconds=longest.total_seconds() - 60)
    assert await _token_expiry(runtime, ok) is not None
    for seconds in (0.0, -3600.0, longest.total_seconds() + 3600):
        async with nothing_written(runtime):
            with pytest.raises(ValidationFailed) as refused:
                await _issue(runtime, agency, Role.READER, seconds=seconds)
        assert refused.value.field == ["expires"], seconds


async def test_a_token_from_before_expiries_lives_the_longest_lifetime(
    api: Api, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """A token stored without an expiry (issued by an older release) expires the longest
    lifetime after it was issued, like any token issued now."""
    from casehub.crypto import hash_token

    agency = await api.agency()
    longest = timedelta(days=runtime.settings.token_max_lifetime_days)
    young = await _issue(runtime, agency, Role.READER)
    old = await _issue(runtime, agency, Role.READER)
    async with open_scope(runtime) as scope:
        for token, age in ((young, longest - timedelta(days=1)), (old, longest)):
            row = await scope.store.token_by_hash(hash_token(token))
            assert row is not None
            row.expires_at, row.created_at = None, scope.now - age
        await scope.store.session.commit()
    assert (await _post(client, {"Authorization": f"Bearer {young}"})).status_code == 200
    await _refused(client, runtime, {"Authorization": f"Bearer {old}"})
