"""Agency signing keys over the API: an AGENCY_ADMIN registers the public half, a HUB_ADMIN
accredits it with a statement the hub's accreditation JWKS verifies, and either revokes it;
every refusal is typed and writes nothing, every success is audited.

The per-agency bound (SIGNING_KEYS_PER_AGENCY = 100) is not tested here: reaching it takes 100
registrations, and patching the cap would test the patch, not the hub.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from casehub.api.ids import to_global_id
from casehub.crypto.agency_keys import AgencyPrivateKey, AgencyPublicKey
from casehub.domain.enums import Role
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.statements import statement_bytes
from casehub.services.agencies import auth, signing_keys
from casehub.services.caps import SIGNING_KEYS_PER_AGENCY
from casehub.services.runtime import Runtime, open_scope
from tests.signing_support import ACCREDIT, REGISTER, REVOKE, accredited_key

if TYPE_CHECKING:
    from tests.api.conftest import GraphQLCall
    from tests.conftest import Agency, World

KEYS = """query($id: ID!) { node(id: $id) { ... on Agency { signingKeys {
  id thumbprint algorithm publicKey state registeredAt
  accreditation { statement signature hubKey notBefore notAfter accreditedAt }
  revocation { statement signature revokedAt reason } agency { id } } } } }"""
KEY_NODE = """query($id: ID!) { node(id: $id) { __typename ... on AgencySigningKey {
  id thumbprint state agency { id } } } }"""
EVENTS = """{ auditEvents(first: 100) { edges { node { action objectType objectId } } } }"""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _public(key: AgencyPrivateKey) -> str:
    return statement_bytes(key.public.to_jwk()).decode("ascii")


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def _mutate(
    gql: GraphQLCall, token: str, document: str, data: dict[str, Any]
) -> dict[str, Any]:
    body = await gql(token, document, {"i": data})
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


def _refusal(payload: dict[str, Any]) -> tuple[str, list[str]]:
    assert payload["key"] is None, payload
    assert len(payload["errors"]) == 1, payload
    error = payload["errors"][0]
    return error["code"], error["field"]


async def _keys(gql: GraphQLCall, token: str, agency: Agency) -> list[dict[str, Any]]:
    body = await gql(token, KEYS, {"id": agency.id})
    assert "errors" not in body, body
    keys: list[dict[str, Any]] = body["data"]["node"]["signingKeys"]
    return keys


async def _registered(gql: GraphQLCall, agency: Agency) -> tuple[AgencyPrivateKey, str]:
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    payload = await _mutate(
        gql, agency.tokens["AGENCY_ADMIN"], REGISTER, {"publicKey": _public(key)}
    )
    assert payload["errors"] == [], payload
    return key, payload["key"]["id"]


@pytest.mark.parametrize("algorithm", list(SigningAlgorithm))
async def test_an_agency_admin_registers_a_key_its_directory_lists(
    gql: GraphQLCall, world: World, algorithm: SigningAlgorithm
) -> None:
    agency = await world.agency("KEY")
    key = AgencyPrivateKey.generate(algorithm)
    jwk = {**key.public.to_jwk(), "kid": "laptop-1", "use": "sig"}  # extra members ignored
    payload = await _mutate(
        gql, agency.tokens["AGENCY_ADMIN"], REGISTER, {"publicKey": json.dumps(jwk)}
    )
    assert payload["errors"] == []
    assert payload["key"]["thumbprint"] == key.public.thumbprint
    assert payload["key"]["state"] == "REGISTERED"
    listed = await _keys(gql, agency.tokens["READER"], agency)
    assert [item["id"] for item in listed] == [payload["key"]["id"]]
    (item,) = listed
    assert item["algorithm"] == algorithm.name
    assert item["accreditation"] is None
    assert item["revocation"] is None
    assert item["agency"]["id"] == agency.id
    # Kept and handed out as the public members only, canonical.
    assert item["publicKey"] == _public(key)


def _okp(crv: str, size: int) -> dict[str, str]:
    return {"kty": "OKP", "crv": crv, "x": _b64(b"\x01" * size)}


_SEED = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
BAD_KEYS: dict[str, str] = {
    "not JSON": "{not json",
    "not an object": "[1, 2]",
    "no x": json.dumps({"kty": "OKP", "crv": "Ed25519"}),
    "short x": json.dumps(_okp("Ed25519", 31)),
    "X25519": json.dumps(_okp("X25519", 32)),
    "P-256": json.dumps(
        {"kty": "EC", "crv": "P-256", "x": _b64(b"\x02" * 32), "y": _b64(b"\x03" * 32)}
    ),
    "private d": json.dumps({**_SEED.public.to_jwk(), "d": _b64(b"\x04" * 32)}),
    "oversized": json.dumps({**_SEED.public.to_jwk(), "kid": "k" * 9000}),
    "hybrid without ML-DSA": json.dumps(
        {"kty": "casehub-hybrid", "alg": "Ed25519+ML-DSA-65", "ed25519": _SEED.public.to_jwk()}
    ),
}


@pytest.mark.parametrize("text", BAD_KEYS.values(), ids=BAD_KEYS.keys())
async def test_a_malformed_or_private_key_is_refused_and_nothing_kept(
    gql: GraphQLCall, world: World, text: str
) -> None:
    agency = await world.agency("KEY")
    payload = await _mutate(gql, agency.tokens["AGENCY_ADMIN"], REGISTER, {"publicKey": text})
    assert _refusal(payload) == ("VALIDATION", ["publicKey"])
    assert await _keys(gql, agency.token, agency) == []


async def test_a_key_registered_twice_is_a_conflict_even_by_another_agency(
    gql: GraphQLCall, world: World
) -> None:
    agency, other = await world.agency("KEY"), await world.agency("KEY")
    key, key_id = await _registered(gql, agency)
    for admin in (agency, other):
        payload = await _mutate(
            gql, admin.tokens["AGENCY_ADMIN"], REGISTER, {"publicKey": _public(key)}
        )
        assert _refusal(payload) == ("CONFLICT", ["publicKey"])
    assert [item["id"] for item in await _keys(gql, agency.token, agency)] == [key_id]
    assert await _keys(gql, other.token, other) == []


@pytest.mark.parametrize("role", [role for role in Role if role is not Role.AGENCY_ADMIN])
async def test_only_an_agency_admin_registers(gql: GraphQLCall, world: World, role: Role) -> None:
    agency = await world.agency("KEY")
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    payload = await _mutate(gql, agency.tokens[role.value], REGISTER, {"publicKey": _public(key)})
    assert _refusal(payload)[0] == "FORBIDDEN"
    assert await _keys(gql, agency.token, agency) == []


async def test_the_accreditation_verifies_with_the_published_hub_keys(
    gql: GraphQLCall, world: World, client: httpx.AsyncClient
) -> None:
    agency = await world.agency("KEY", "SG")
    key, key_id = await _registered(gql, agency)
    payload = await _mutate(
        gql, agency.tokens["HUB_ADMIN"], ACCREDIT, {"id": key_id, "notAfter": _in(30)}
    )
    assert payload["errors"] == [], payload
    assert payload["key"]["state"] == "ACCREDITED"
    accreditation = payload["key"]["accreditation"]
    response = await client.get("/.well-known/casehub-accreditation.json")
    assert response.status_code == 200
    jwks = response.json()
    (hub_jwk,) = [jwk for jwk in jwks["keys"] if jwk["kid"] == accreditation["hubKey"]]
    hub_key = AgencyPublicKey.from_jwk(hub_jwk)
    assert hub_key.algorithm is SigningAlgorithm.ED25519_ML_DSA_65
    message = accreditation["statement"].encode("utf-8")
    assert hub_key.verify(message, accreditation["signature"])
    assert not hub_key.verify(message.replace(b"SG", b"MY"), accreditation["signature"])
    statement = json.loads(accreditation["statement"])
    assert statement["format"] == "casehub-accreditation/1"
    assert statement["agency"] == str(agency.uuid)
    assert (statement["code"], statement["jurisdiction"]) == (agency.code, "SG")
    assert statement["kind"] == "LAW_ENFORCEMENT"
    assert statement["thumbprint"] == key.public.thumbprint
    assert statement["algorithm"] == "Ed25519"


def _accredit_input(key_id: str, not_before: float | None, not_after: float) -> dict[str, Any]:
    return {
        "id": key_id,
        "notBefore": None if not_before is None else _in(not_before),
        "notAfter": _in(not_after),
    }


BAD_PERIODS: dict[str, tuple[float | None, float, str]] = {
    "ends before it starts": (2, 1, "notAfter"),
    "ends when it starts": (2, 2, "notAfter"),
    "ends in the past": (None, -1, "notAfter"),
    "over three years": (None, 3 * 366 + 2, "notAfter"),
    "starts in the past": (-1, 30, "notBefore"),
}


@pytest.mark.parametrize("period", BAD_PERIODS.values(), ids=BAD_PERIODS.keys())
async def test_an_accreditation_period_out_of_bounds_is_refused(
    gql: GraphQLCall, world: World, period: tuple[float | None, float, str]
) -> None:
    agency = await world.agency("KEY")
    _key, key_id = await _registered(gql, agency)
    not_before, not_after, field = period
    payload = await _mutate(
        gql, agency.tokens["HUB_ADMIN"], ACCREDIT, _accredit_input(key_id, not_before, not_after)
    )
    assert _refusal(payload) == ("VALIDATION", [field])
    (item,) = await _keys(gql, agency.token, agency)
    assert (item["state"], item["accreditation"]) == ("REGISTERED", None)


async def test_an_accreditation_in_the_future_is_pending(gql: GraphQLCall, world: World) -> None:
    agency = await world.agency("KEY")
    _key, key_id = await _registered(gql, agency)
    payload = await _mutate(
        gql, agency.tokens["HUB_ADMIN"], ACCREDIT, _accredit_input(key_id, 1, 3)
    )
    assert payload["errors"] == []
    assert payload["key"]["state"] == "PENDING"


@pytest.mark.parametrize("role", [role for role in Role if role is not Role.HUB_ADMIN])
async def test_only_the_hub_accredits(gql: GraphQLCall, world: World, role: Role) -> None:
    agency = await world.agency("KEY")
    _key, key_id = await _registered(gql, agency)
    payload = await _mutate(
        gql, agency.tokens[role.value], ACCREDIT, _accredit_input(key_id, None, 30)
    )
    assert _refusal(payload)[0] == "FORBIDDEN"
    (item,) = await _keys(gql, agency.token, agency)
    assert item["accreditation"] is None


async def test_a_key_is_accredited_once_and_never_after_revocation(
    gql: GraphQLCall, world: World
) -> None:
    agency = await world.agency("KEY")
    hub = agency.tokens["HUB_ADMIN"]
    _key, key_id = await accredited_key(gql, agency.tokens["AGENCY_ADMIN"], hub)
    (before,) = await _keys(gql, agency.token, agency)
    again = await _mutate(gql, hub, ACCREDIT, _accredit_input(key_id, None, 60))
    assert _refusal(again) == ("CONFLICT", ["id"])
    assert await _keys(gql, agency.token, agency) == [before]

    _other, revoked_id = await _registered(gql, agency)
    revoked = await _mutate(gql, hub, REVOKE, {"id": revoked_id, "reason": "Lost laptop"})
    assert revoked["errors"] == []
    payload = await _mutate(gql, hub, ACCREDIT, _accredit_input(revoked_id, None, 30))
    assert _refusal(payload) == ("CONFLICT", ["id"])
    states = {item["id"]: item for item in await _keys(gql, agency.token, agency)}
    assert states[revoked_id]["state"] == "REVOKED"
    assert states[revoked_id]["accreditation"] is None


async def test_accrediting_an_unknown_key_is_not_found(gql: GraphQLCall, world: World) -> None:
    agency = await world.agency("KEY")
    unknown = to_global_id("AgencySigningKey", uuid.uuid4())
    payload = await _mutate(
        gql, agency.tokens["HUB_ADMIN"], ACCREDIT, _accredit_input(unknown, None, 30)
    )
    assert _refusal(payload) == ("NOT_FOUND", ["id"])


@pytest.mark.parametrize("by", ["AGENCY_ADMIN", "HUB_ADMIN"])
async def test_its_agency_admin_or_the_hub_revokes_with_a_hub_signed_statement(
    gql: GraphQLCall, world: World, client: httpx.AsyncClient, by: str
) -> None:
    agency = await world.agency("KEY")
    stranger = await world.agency("KEY")
    key, key_id = await accredited_key(
        gql, agency.tokens["AGENCY_ADMIN"], agency.tokens["HUB_ADMIN"]
    )
    # The hub admin of any agency acts for the hub.
    token = agency.tokens["AGENCY_ADMIN"] if by == "AGENCY_ADMIN" else stranger.tokens["HUB_ADMIN"]
    payload = await _mutate(gql, token, REVOKE, {"id": key_id, "reason": "Key compromised"})
    assert payload["errors"] == [], payload
    assert payload["key"]["state"] == "REVOKED"
    revocation = payload["key"]["revocation"]
    assert revocation["reason"] == "Key compromised"
    statement = json.loads(revocation["statement"])
    assert statement["format"] == "casehub-revocation/1"
    assert (statement["agency"], statement["thumbprint"]) == (
        str(agency.uuid),
        key.public.thumbprint,
    )
    jwks = (await client.get("/.well-known/casehub-accreditation.json")).json()
    message = revocation["statement"].encode("utf-8")
    assert any(
        AgencyPublicKey.from_jwk(jwk).verify(message, revocation["signature"])
        for jwk in jwks["keys"]
    )
    again = await _mutate(gql, token, REVOKE, {"id": key_id, "reason": "Again"})
    assert _refusal(again) == ("CONFLICT", ["id"])
    (item,) = await _keys(gql, agency.token, agency)
    assert item["revocation"] == revocation


async def test_another_agencys_admin_cannot_revoke(gql: GraphQLCall, world: World) -> None:
    agency, other = await world.agency("KEY"), await world.agency("KEY")
    _key, key_id = await accredited_key(
        gql, agency.tokens["AGENCY_ADMIN"], agency.tokens["HUB_ADMIN"]
    )
    payload = await _mutate(
        gql, other.tokens["AGENCY_ADMIN"], REVOKE, {"id": key_id, "reason": "x"}
    )
    assert _refusal(payload) == ("FORBIDDEN", ["id"])
    (item,) = await _keys(gql, agency.token, agency)
    assert (item["state"], item["revocation"]) == ("ACCREDITED", None)


@pytest.mark.parametrize(
    "role", [role for role in Role if role not in (Role.AGENCY_ADMIN, Role.HUB_ADMIN)]
)
async def test_other_roles_cannot_revoke(gql: GraphQLCall, world: World, role: Role) -> None:
    agency = await world.agency("KEY")
    _key, key_id = await _registered(gql, agency)
    payload = await _mutate(gql, agency.tokens[role.value], REVOKE, {"id": key_id, "reason": "x"})
    assert _refusal(payload)[0] == "FORBIDDEN"
    (item,) = await _keys(gql, agency.token, agency)
    assert item["revocation"] is None


BAD_REVOCATIONS: dict[str, tuple[dict[str, Any], str]] = {
    "in the future": ({"revokedAt": _in(1)}, "revokedAt"),
    "before registration": ({"revokedAt": _in(-1)}, "revokedAt"),
    "no reason": ({"reason": ""}, "reason"),
    "reason too long": ({"reason": "x" * 501}, "reason"),
}


@pytest.mark.parametrize("given", BAD_REVOCATIONS.values(), ids=BAD_REVOCATIONS.keys())
async def test_a_revocation_out_of_bounds_is_refused(
    gql: GraphQLCall, world: World, given: tuple[dict[str, Any], str]
) -> None:
    agency = await world.agency("KEY")
    _key, key_id = await _registered(gql, agency)
    extra, field = given
    payload = await _mutate(
        gql, agency.tokens["AGENCY_ADMIN"], REVOKE, {"id": key_id, "reason": "Lost", **extra}
    )
    assert _refusal(payload) == ("VALIDATION", [field])
    (item,) = await _keys(gql, agency.token, agency)
    assert (item["state"], item["revocation"]) == ("REGISTERED", None)


async def test_a_revocation_may_take_effect_in_the_past(gql: GraphQLCall, world: World) -> None:
    agency = await world.agency("KEY")
    _key, key_id = await accredited_key(
        gql, agency.tokens["AGENCY_ADMIN"], agency.tokens["HUB_ADMIN"]
    )
    moment = datetime.now(UTC).replace(microsecond=0)
    payload = await _mutate(
        gql,
        agency.tokens["AGENCY_ADMIN"],
        REVOKE,
        {"id": key_id, "reason": "Noticed late", "revokedAt": moment.isoformat()},
    )
    assert payload["errors"] == [], payload
    assert datetime.fromisoformat(payload["key"]["revocation"]["revokedAt"]) == moment


async def test_each_key_step_is_audited_for_its_agency(gql: GraphQLCall, world: World) -> None:
    agency = await world.agency("KEY")
    _key, key_id = await accredited_key(
        gql, agency.tokens["AGENCY_ADMIN"], agency.tokens["HUB_ADMIN"]
    )
    revoked = await _mutate(
        gql, agency.tokens["AGENCY_ADMIN"], REVOKE, {"id": key_id, "reason": "x"}
    )
    assert revoked["errors"] == []
    body = await gql(agency.tokens["AGENCY_ADMIN"], EVENTS)
    assert "errors" not in body, body
    actions = [
        edge["node"]["action"]
        for edge in body["data"]["auditEvents"]["edges"]
        if edge["node"]["objectId"] == key_id
    ]
    assert sorted(actions) == ["SIGNING_KEY_ACCREDIT", "SIGNING_KEY_REGISTER", "SIGNING_KEY_REVOKE"]


async def test_a_key_is_public_to_any_caller_and_an_unknown_id_is_null(
    gql: GraphQLCall, world: World
) -> None:
    agency, stranger = await world.agency("KEY"), await world.agency("KEY")
    key, key_id = await _registered(gql, agency)
    for token in (stranger.tokens["READER"], stranger.tokens["HUB_ADMIN"], agency.token):
        body = await gql(token, KEY_NODE, {"id": key_id})
        assert body["data"]["node"] == {
            "__typename": "AgencySigningKey",
            "id": key_id,
            "thumbprint": key.public.thumbprint,
            "state": "REGISTERED",
            "agency": {"id": agency.id},
        }
    unknown = to_global_id("AgencySigningKey", uuid.uuid4())
    assert (await gql(agency.token, KEY_NODE, {"id": unknown}))["data"]["node"] is None
    anonymous = await gql(None, KEY_NODE, {"id": key_id}, status=401)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_revoking_an_unknown_key_is_answered_as_revoking_anothers(
    gql: GraphQLCall, world: World
) -> None:
    # An agency admin learns nothing from the id it sends: no key of its agency, either way
    # (keys are public anyway); the hub, which may revoke any, is told none exists.
    agency = await world.agency("KEY")
    unknown = to_global_id("AgencySigningKey", uuid.uuid4())
    refusals = [
        _refusal(await _mutate(gql, agency.tokens[role], REVOKE, {"id": unknown, "reason": "x"}))
        for role in ("AGENCY_ADMIN", "HUB_ADMIN")
    ]
    assert refusals == [("FORBIDDEN", ["id"]), ("NOT_FOUND", ["id"])]


async def test_an_agency_holds_at_most_its_bound_of_keys(
    gql: GraphQLCall, world: World, runtime: Runtime
) -> None:
    agency = await world.agency("CAP")
    admin = agency.tokens["AGENCY_ADMIN"]
    # Filled up through the service (as its administrator would, a key at a time).
    async with open_scope(runtime) as scope:
        scope.principal = await auth.authenticate(runtime, scope, f"Bearer {admin}")
        for _ in range(SIGNING_KEYS_PER_AGENCY):
            key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
            await signing_keys.register_signing_key(scope, public_key=_public(key))
    one_more = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    payload = await _mutate(gql, admin, REGISTER, {"publicKey": _public(one_more)})
    assert _refusal(payload) == ("VALIDATION", ["publicKey"])
    assert len(await _keys(gql, admin, agency)) == SIGNING_KEYS_PER_AGENCY
