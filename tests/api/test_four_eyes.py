"""Four eyes: an EMERGENCY request to a service provider waits in AWAITING_APPROVAL after its
signed submission, unseen by the provider (node, list, live inbox), until a SUPERVISOR of the
requesting agency other than the submitter countersigns it; its deadlines start then, and both
parties read the approval's two signatures VERIFIED."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from casehub.config import Settings
from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.domain.enums import Role
from casehub.domain.requests.deadlines import at_submission
from casehub.domain.requests.transitions import Priority, RequestKind
from casehub.services.agencies import auth
from casehub.services.runtime import open_scope
from tests.api.test_request_inbox import inbox_of, latest_seq
from tests.conftest import Agency
from tests.request_support import three_agencies
from tests.signing_support import EMERGENCY, SignedHub, signed_hub, statement_digest

APPROVE = """mutation($i: ApproveCooperationRequestInput!) { approveCooperationRequest(input: $i)
  { request { id status } errors { code field message } } }"""
TIMES = """query($id: ID!) { node(id: $id) { ... on CooperationRequest {
  status submittedAt acknowledgeBy decideBy dueAt holdUntil requested { timezone } } } }"""


@pytest.fixture(scope="module")
async def hub(settings: Settings) -> AsyncIterator[SignedHub]:
    """The app under the default signing policy."""
    async with signed_hub(settings) as built:
        yield built


@pytest.fixture(autouse=True)
def _clock_reset(hub: SignedHub) -> None:
    hub.shift[0] = timedelta()


class Emergency:
    """A police force's emergency request to a platform, submitted and awaiting approval."""

    def __init__(self, hub: SignedHub, police: Agency, platform: Agency, outsider: Agency) -> None:
        self.hub, self.police, self.platform, self.outsider = hub, police, platform, outsider
        self.key: AgencyPrivateKey | None = None
        self.id = ""
        self.submission: dict[str, str] = {}

    async def submit(self) -> None:
        self.key, _key_id = await self.hub.key(self.police)
        self.id = await self.hub.req.draft(self.police.token, self.platform.id, **EMERGENCY)
        self.submission = await self.sign(self.police.token, "SUBMIT")
        status = await self.hub.req.moved(
            self.police.token, "submit", self.id, signature=self.submission
        )
        assert status == "AWAITING_APPROVAL"

    async def sign(self, token: str, action: str, **given: Any) -> dict[str, str]:
        assert self.key is not None
        return await self.hub.sign(token, self.key, self.police, self.id, action, **given)

    async def approval(self, token: str) -> dict[str, str]:
        """An APPROVE signature by the token's principal, countersigning the submission."""
        return await self.sign(token, "APPROVE", countersigns=statement_digest(self.submission))

    async def approve(self, token: str, signature: dict[str, str] | None) -> dict[str, Any]:
        body = await self.hub.gql(token, APPROVE, {"i": {"id": self.id, "signature": signature}})
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"]["approveCooperationRequest"]
        return payload


@pytest.fixture
async def emergency(hub: SignedHub) -> Emergency:
    """A new emergency request awaiting approval."""
    police, platform, outsider = await three_agencies(hub.world)
    request = Emergency(hub, police, platform, outsider)
    await request.submit()
    return request


async def _times(hub: SignedHub, token: str, request_id: str) -> dict[str, Any]:
    body = await hub.gql(token, TIMES, {"id": request_id})
    node: dict[str, Any] = body["data"]["node"]
    return node


def _refused(payload: dict[str, Any]) -> tuple[str, list[str] | None]:
    assert payload["request"] is None, payload
    (error,) = payload["errors"]
    return error["code"], error["field"]


async def _token(hub: SignedHub, agency: Agency, name: str, roles: list[Role]) -> str:
    async with open_scope(hub.runtime) as scope:
        _id, token = await auth.issue_token(
            scope, agency_code=agency.code, roles=roles, principal_name=name
        )
    return token


async def test_the_provider_sees_nothing_of_a_request_awaiting_approval(
    hub: SignedHub, emergency: Emergency
) -> None:
    police, platform = emergency.police, emergency.platform
    assert (await _times(hub, police.token, emergency.id))["status"] == "AWAITING_APPROVAL"
    assert (await _times(hub, police.token, emergency.id))["acknowledgeBy"] is None
    assert await hub.req.read(platform.token, emergency.id) is None
    assert emergency.id not in await hub.req.listed(platform.token)
    assert await hub.verification(platform.token, emergency.id) is None
    # Nor can it act on it: it does not exist for the provider.
    for step in ("acknowledge", "accept"):
        assert _refused(await hub.req.step(platform.token, step, emergency.id))[0] == "NOT_FOUND"
    payload = await emergency.approve(platform.tokens["SUPERVISOR"], emergency.submission)
    assert _refused(payload)[0] == "NOT_FOUND"


async def test_the_live_inbox_of_the_provider_gets_only_the_approval(hub: SignedHub) -> None:
    police, platform, outsider = await three_agencies(hub.world)
    request = Emergency(hub, police, platform, outsider)
    since = await latest_seq(hub.runtime, platform.token)
    async with inbox_of(hub.app, platform.token, since) as sock:
        await request.submit()
        await sock.silent()
        signature = await request.approval(police.tokens["SUPERVISOR"])
        payload = await request.approve(police.tokens["SUPERVISOR"], signature)
        assert payload["errors"] == [], payload
        event = await sock.event()
        assert (event["action"], event["fromStatus"], event["toStatus"]) == (
            "APPROVE",
            "AWAITING_APPROVAL",
            "SUBMITTED",
        )
        await sock.silent()


async def test_the_submitter_cannot_approve_even_as_a_supervisor(
    hub: SignedHub, emergency: Emergency
) -> None:
    # The "all" token's principal ("agency-tool") submitted; the same principal now holds
    # SUPERVISOR too.
    both = await _token(
        hub, emergency.police, "agency-tool", [Role.LIAISON_OFFICER, Role.SUPERVISOR]
    )
    signature = await emergency.approval(both)
    before = await hub.req.snapshot(emergency.police.token, emergency.id)
    assert _refused(await emergency.approve(both, signature)) == ("FORBIDDEN", ["id"])
    assert await hub.req.snapshot(emergency.police.token, emergency.id) == before


@pytest.mark.parametrize("role", [role for role in Role if role is not Role.SUPERVISOR])
async def test_only_a_supervisor_approves(hub: SignedHub, emergency: Emergency, role: Role) -> None:
    token = emergency.police.tokens[role.value]
    # A good countersignature (a HUB_ADMIN cannot even read the request to make one).
    signature = await emergency.approval(emergency.police.tokens["SUPERVISOR"])
    before = await hub.req.snapshot(emergency.police.token, emergency.id)
    assert _refused(await emergency.approve(token, signature))[0] == "FORBIDDEN"
    assert await hub.req.snapshot(emergency.police.token, emergency.id) == before


async def test_an_approval_must_carry_a_good_countersignature(
    hub: SignedHub, emergency: Emergency
) -> None:
    supervisor = emergency.police.tokens["SUPERVISOR"]
    before = await hub.req.snapshot(emergency.police.token, emergency.id)
    # The input type requires it: GraphQL refuses the document itself.
    body = await hub.gql(supervisor, APPROVE, {"i": {"id": emergency.id}})
    assert body.get("data") is None
    assert body["errors"]
    # Countersigning something else than the submission.
    wrong = await emergency.sign(supervisor, "APPROVE", countersigns="0" * 64)
    assert _refused(await emergency.approve(supervisor, wrong)) == (
        "STATEMENT_MISMATCH",
        ["signature", "statement"],
    )
    # Not countersigning at all.
    plain = await emergency.sign(supervisor, "APPROVE")
    assert _refused(await emergency.approve(supervisor, plain))[0] == "STATEMENT_MISMATCH"
    # The submission's own signature given again.
    assert _refused(await emergency.approve(supervisor, emergency.submission))[0] == (
        "STATEMENT_MISMATCH"
    )
    assert await hub.req.snapshot(emergency.police.token, emergency.id) == before
    assert await hub.req.read(emergency.platform.token, emergency.id) is None


async def test_another_supervisor_approves_and_the_clock_starts_then(
    hub: SignedHub, emergency: Emergency
) -> None:
    police, platform = emergency.police, emergency.platform
    hub.shift[0] = timedelta(hours=3)  # the supervisor approves three hours later
    supervisor = police.tokens["SUPERVISOR"]
    signature = await emergency.approval(supervisor)
    payload = await emergency.approve(supervisor, signature)
    assert payload["errors"] == [], payload
    assert payload["request"]["status"] == "SUBMITTED"
    times = await _times(hub, platform.token, emergency.id)
    assert times["status"] == "SUBMITTED"
    submitted = datetime.fromisoformat(times["submittedAt"])
    assert abs(submitted - hub.now()) < timedelta(minutes=1)
    expected = at_submission(
        RequestKind.EMERGENCY_DISCLOSURE,
        Priority.EMERGENCY,
        submitted,
        ZoneInfo(times["requested"]["timezone"]),
    )
    # From the approval three hours after the submission (within the clock's reads of it).
    for name, due in (
        ("acknowledgeBy", expected.acknowledge_by),
        ("decideBy", expected.decide_by),
        ("dueAt", expected.due_at),
    ):
        assert abs(datetime.fromisoformat(times[name]) - due) < timedelta(seconds=1), name
    assert emergency.id in await hub.req.listed(platform.token)
    assert (await hub.req.read(platform.token, emergency.id) or {})["status"] == "SUBMITTED"

    approver = str(await _principal(hub, supervisor))
    for agency in (police, platform):
        verification = await hub.verification(agency.token, emergency.id)
        assert verification is not None
        steps = {step["action"]: step for step in verification}
        # The provider never sees the submission's own event; its signature it does, countersigned.
        assert list(steps) == (["SUBMIT", "APPROVE"] if agency is police else ["APPROVE"])
        approve = steps["APPROVE"]
        assert (approve["status"], approve["required"], approve["reason"]) == (
            "VERIFIED",
            True,
            None,
        )
        signer, countersigner = approve["signatures"]
        assert (signer["role"], signer["status"]) == ("SIGNER", "VERIFIED")
        assert signer["statement"] == emergency.submission["statement"]
        assert (countersigner["role"], countersigner["status"]) == ("COUNTERSIGNER", "VERIFIED")
        assert countersigner["statement"] == signature["statement"]
        assert approver in countersigner["statement"]
    # The provider now acts on it as on any request.
    assert await hub.req.moved(platform.token, "acknowledge", emergency.id) == "ACKNOWLEDGED"


async def _principal(hub: SignedHub, token: str) -> str:
    body = await hub.gql(token, "{ viewer { principalId } }")
    principal: str = body["data"]["viewer"]["principalId"]
    return principal


async def test_an_approval_is_taken_once(hub: SignedHub, emergency: Emergency) -> None:
    supervisor = emergency.police.tokens["SUPERVISOR"]
    payload = await emergency.approve(supervisor, await emergency.approval(supervisor))
    assert payload["errors"] == []
    again = await emergency.approve(supervisor, await emergency.approval(supervisor))
    assert _refused(again)[0] == "INVALID_TRANSITION"


async def test_withdrawn_while_awaiting_approval_it_never_reaches_the_provider(
    hub: SignedHub, emergency: Emergency
) -> None:
    police, platform = emergency.police, emergency.platform
    assert await hub.req.moved(police.token, "withdraw", emergency.id) == "WITHDRAWN"
    assert await hub.req.read(platform.token, emergency.id) is None
    assert emergency.id not in await hub.req.listed(platform.token)
    supervisor = police.tokens["SUPERVISOR"]
    signature = await emergency.approval(supervisor)
    assert _refused(await emergency.approve(supervisor, signature))[0] == "INVALID_TRANSITION"
    assert await hub.req.read(platform.token, emergency.id) is None


async def test_a_routine_request_to_a_provider_needs_no_approval(hub: SignedHub) -> None:
    police, platform, _outsider = await three_agencies(hub.world)
    key, _key_id = await hub.key(police)
    request_id = await hub.req.draft(police.token, platform.id)
    signature = await hub.sign(police.token, key, police, request_id, "SUBMIT")
    assert await hub.req.moved(police.token, "submit", request_id, signature=signature) == (
        "SUBMITTED"
    )


@pytest.mark.parametrize("role", [Role.LIAISON_OFFICER, Role.AGENCY_ADMIN, Role.READER])
async def test_without_the_role_an_approval_is_forbidden_in_any_state(
    hub: SignedHub, role: Role
) -> None:
    # The role is decided first: no state (INVALID_TRANSITION) is told to a role that may
    # never approve.
    police, platform, outsider = await three_agencies(hub.world)
    request = Emergency(hub, police, platform, outsider)
    request.id = await hub.req.draft(police.token, platform.id)
    anything = {"keyThumbprint": "x" * 43, "statement": "{}", "signature": "x"}
    payload = await request.approve(police.tokens[role.value], anything)
    assert _refused(payload) == ("FORBIDDEN", None)
