"""DPoP-bound tokens on the websocket: the key is proved once, at connection_init, by a proof
for GET and the socket's http(s) URL (in the payload's `dpop`, or the upgrade request's DPoP
header); every operation after it re-checks the token against the key the connection proved."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from httpx_ws import WebSocketDisconnect

from casehub.crypto import dpop as proofs
from casehub.persistence.tables import DpopProofRow
from casehub.services.agencies import auth
from casehub.services.runtime import Runtime, open_scope
from tests.api.test_dpop import URL, bind
from tests.api.test_websocket_operations import VIEWER, Operations, operations
from tests.security.gate_support import app_of, socket
from tests.support import nothing_written

if TYPE_CHECKING:
    from tests.api.test_dpop import Bound
    from tests.conftest import World


def init(bound: Bound, proof: str | None = None) -> dict[str, Any]:
    """A connection_init payload with the token and a proof for the socket (GET, its URL)."""
    return {"authorization": f"DPoP {bound.token}", "dpop": proof or bound.proof("GET")}


async def closed_with(runtime: Runtime, payload: dict[str, Any]) -> Any:
    async with socket(app_of(runtime)) as sock:
        return await Operations(sock).init(payload)


async def last_reason(runtime: Runtime) -> str:
    async with open_scope(runtime) as scope:
        event = (await scope.store.audit_log())[-1]
    assert event.action == "auth.fail"
    reason: str = json.loads(event.details)["reason"]
    return reason


async def test_connection_init_proves_the_key_once_for_every_operation(
    world: World, runtime: Runtime
) -> None:
    bound = await bind(runtime, world)
    async with operations(app_of(runtime), init=init(bound)) as ops:
        for _ in range(3):  # no proof per operation: the connection proved the key
            payload = await ops.result(VIEWER)
            assert payload["data"]["viewer"]["agency"] == {"code": bound.agency}
    # The upgrade request's headers do as well.
    headers = {"Authorization": f"DPoP {bound.token}", "DPoP": bound.proof("GET")}
    async with socket(app_of(runtime), headers) as sock:
        ops = Operations(sock)
        assert await ops.init() == {"type": "connection_ack"}
        assert (await ops.result(VIEWER))["data"]["viewer"]["agency"] == {"code": bound.agency}


async def test_connection_init_without_a_good_proof_is_closed_4401(
    world: World, runtime: Runtime
) -> None:
    bound = await bind(runtime, world)
    used = bound.proof("GET")
    async with operations(app_of(runtime), init=init(bound, used)):
        pass
    thief = proofs.make_proof(proofs.new_key(), method="GET", url=URL, token=bound.token)
    attempts = {
        "dpop: send exactly one DPoP header with a DPoP-bound token": {
            "authorization": f"DPoP {bound.token}"
        },
        "dpop: this proof was used before (its jti)": init(bound, used),
        "dpop: htm must be the request's method": init(bound, bound.proof("POST")),
        "dpop: htu must be the request's URL": init(
            bound, bound.proof("GET", "http://casehub.test/elsewhere")
        ),
        "dpop: bound to another key": init(bound, thief),
        "bound, presented as bearer": {"token": bound.token},
    }
    for reason, payload in attempts.items():
        async with nothing_written(runtime):
            assert await closed_with(runtime, payload) == 4401, reason
        assert await last_reason(runtime) == reason


async def test_a_token_revoked_after_connection_init_acts_no_more(
    world: World, runtime: Runtime
) -> None:
    bound = await bind(runtime, world)
    async with operations(app_of(runtime), init=init(bound)) as ops:
        assert "data" in await ops.result(VIEWER)
        async with open_scope(runtime) as scope:
            await auth.revoke_token(scope, token_or_id=bound.token)
        before = await _proofs(runtime)
        await ops.ws.send_json({"id": "9", "type": "subscribe", "payload": {"query": VIEWER}})
        try:
            answer = await ops.ws.receive_json(timeout=5)
        except WebSocketDisconnect as closed:
            answer = closed.code
    assert answer == 4401
    assert await _proofs(runtime) == before
    assert await last_reason(runtime) == "dpop: revoked"


async def _proofs(runtime: Runtime) -> int:
    async with open_scope(runtime) as scope:
        return await scope.store.count_rows(DpopProofRow)
