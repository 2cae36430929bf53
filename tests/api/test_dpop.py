"""Sender-constrained tokens (DPoP, RFC 9449) over HTTP: a token issued bound to a key is
accepted only as `Authorization: DPoP` with a fresh proof signed by that key for this method and
URL; every other way of presenting it is a 401 with the RFC's challenge, audited, and writes
nothing else — the replay cache included."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import delete

from casehub.crypto import dpop as proofs
from casehub.domain.enums import Role
from casehub.persistence.agencies.proofs import PRUNE_BATCH
from casehub.persistence.tables import AuditEventRow, DpopProofRow
from casehub.services.agencies import auth
from casehub.services.runtime import Runtime, open_scope
from tests.security.gate_support import app_of, calling
from tests.support import nothing_written

if TYPE_CHECKING:
    from tests.conftest import World

URL = "http://casehub.test/graphql"
VIEWER = "{ viewer { name agency { code } } }"
ALGS = 'algs="EdDSA Ed25519 ES256"'


@dataclass
class Bound:
    """A DPoP-bound token and the private key it is bound to."""

    token: str
    key: dict[str, Any]
    agency: str

    def proof(self, method: str = "POST", url: str = URL, **claims: Any) -> str:
        """A proof by the token's key for this request."""
        return proofs.make_proof(self.key, method=method, url=url, token=self.token, **claims)

    def headers(self, proof: str | None = None) -> dict[str, str]:
        """The headers of a request with the token and a proof (a fresh one by default)."""
        return {"Authorization": f"DPoP {self.token}", "DPoP": proof or self.proof()}


async def bind(runtime: Runtime, world: World, key: dict[str, Any] | None = None) -> Bound:
    """A new agency's token bound to `key` (a new Ed25519 key by default)."""
    agency = await world.agency("DPOP")
    key = key or proofs.new_key()
    async with open_scope(runtime) as scope:
        _id, token = await auth.issue_token(
            scope,
            agency_code=agency.code,
            roles=[Role.READER],
            principal_name="dpop-tool",
            dpop_key=proofs.public_jwk(key),
        )
    return Bound(token=token, key=key, agency=agency.code)


@asynccontextmanager
async def client(runtime: Runtime, address: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh app (fresh failed-authentication limits)."""
    async with calling(app_of(runtime), address) as http:
        yield http


async def viewer(http: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await http.post("/graphql", json={"query": VIEWER}, headers=headers)


async def stored_proofs(runtime: Runtime) -> int:
    async with open_scope(runtime) as scope:
        return await scope.store.count_rows(DpopProofRow)


async def last_failure(runtime: Runtime) -> str:
    async with open_scope(runtime) as scope:
        event: AuditEventRow = (await scope.store.audit_log())[-1]
    assert (event.action, event.outcome) == ("auth.fail", "UNAUTHENTICATED")
    reason: str = json.loads(event.details)["reason"]
    return reason


async def refused(
    runtime: Runtime, http: httpx.AsyncClient, headers: dict[str, str], method: str = "POST"
) -> tuple[str, str]:
    """Send a refused request: its WWW-Authenticate challenge and audited reason, having
    checked the 401 and its typed error, and that nothing but the audit event was written."""
    async with nothing_written(runtime):
        if method == "POST":
            response = await viewer(http, headers)
        else:
            response = await http.get("/graphql", params={"query": VIEWER}, headers=headers)
    assert response.status_code == 401, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    challenge = response.headers["www-authenticate"]
    if challenge != "Bearer":
        assert error["extensions"]["dpop"] in challenge
        assert challenge.endswith(ALGS)
    return challenge, await last_failure(runtime)


def invalid_proof(reason: str) -> str:
    return f'DPoP error="invalid_dpop_proof", error_description="{reason}", {ALGS}'


INVALID_TOKEN = f'DPoP error="invalid_token", {ALGS}'


async def test_a_bound_token_works_with_a_proof_from_its_key(
    world: World, runtime: Runtime
) -> None:
    bound = await bind(runtime, world)
    before = await stored_proofs(runtime)
    async with client(runtime) as http:
        for _ in range(2):  # a fresh proof for each request
            response = await viewer(http, bound.headers())
            assert response.status_code == 200, response.text
            assert response.json()["data"]["viewer"] == {
                "name": "dpop-tool",
                "agency": {"code": bound.agency},
            }
    assert await stored_proofs(runtime) == before + 2
    # A P-256 key (ES256) binds as well as an Ed25519 one.
    from joserfc.jwk import ECKey

    ec = await bind(runtime, world, dict(ECKey.generate_key("P-256").as_dict(private=True)))
    async with client(runtime) as http:
        assert (await viewer(http, ec.headers())).status_code == 200


async def test_a_copied_token_without_its_key_is_refused(world: World, runtime: Runtime) -> None:
    bound = await bind(runtime, world)
    thief = proofs.new_key()
    stolen = proofs.make_proof(thief, method="POST", url=URL, token=bound.token)
    async with client(runtime) as http:
        # As a bearer token: the same answer as an unknown token.
        challenge, reason = await refused(runtime, http, {"Authorization": f"Bearer {bound.token}"})
        assert (challenge, reason) == ("Bearer", "bound, presented as bearer")
        # As a DPoP token without a proof.
        challenge, reason = await refused(runtime, http, {"Authorization": f"DPoP {bound.token}"})
        assert challenge == invalid_proof("send exactly one DPoP header with a DPoP-bound token")
        # With a good proof by another key.
        challenge, reason = await refused(runtime, http, bound.headers(stolen))
        assert (challenge, reason) == (INVALID_TOKEN, "dpop: bound to another key")
        # The owner's key still works.
        assert (await viewer(http, bound.headers())).status_code == 200


async def test_a_replayed_proof_is_refused(world: World, runtime: Runtime) -> None:
    bound = await bind(runtime, world)
    proof = bound.proof()
    async with client(runtime) as http:
        assert (await viewer(http, bound.headers(proof))).status_code == 200
        challenge, reason = await refused(runtime, http, bound.headers(proof))
    assert challenge == invalid_proof("this proof was used before (its jti)")
    assert reason == "dpop: this proof was used before (its jti)"


# Proofs that are refused before the token is looked up, by what is wrong with them.
BAD_PROOFS: dict[str, tuple[Callable[[Bound], str], str]] = {
    "another URL": (
        lambda b: b.proof(url="http://casehub.test/other"),
        "htu must be the request's URL",
    ),
    "another host": (
        lambda b: b.proof(url="https://casehub.test/graphql"),
        "htu must be the request's URL",
    ),
    "another method": (lambda b: b.proof(method="PUT"), "htm must be the request's method"),
    "stale iat": (
        lambda b: b.proof(issued_at=time.time() - 120),
        "iat is too far from the server's time",
    ),
    "future iat": (
        lambda b: b.proof(issued_at=time.time() + 120),
        "iat is too far from the server's time",
    ),
    "missing ath": (
        lambda b: sign(b, drop="ath"),
        "ath must be the hash of the access token",
    ),
    "ath of another token": (
        lambda b: proofs.make_proof(b.key, method="POST", url=URL, token="chb_other"),
        "ath must be the hash of the access token",
    ),
    "not a JWS": (lambda b: "not-a-proof", "the proof is not a compact JWS"),
    "tampered payload": (
        lambda b: tamper(b.proof()),
        "the signature does not verify with the proof's jwk",
    ),
    "wrong typ": (lambda b: sign(b, typ="JWT"), "typ must be dpop+jwt"),
    "symmetric alg": (
        lambda b: sign(b, alg="HS256"),
        "alg must be one of EdDSA, Ed25519, ES256",
    ),
    "private key in the header": (
        lambda b: sign(b, private_jwk=True),
        "jwk must be a public key",
    ),
    "no jwk": (lambda b: sign(b, jwk=None), "the header must carry the public key as jwk"),
    "crit": (lambda b: sign(b, crit=["exp"]), "crit is not supported"),
    "payload not an object": (
        lambda b: sign(b, payload="[1]"),
        "the proof's payload is not a JSON object",
    ),
    "oversized": (
        lambda b: b.proof(jti="x" * 3000),
        "the proof is longer than 2048 characters",
    ),
    "long jti": (
        lambda b: b.proof(jti="x" * 129),
        "jti must be a string of 1 to 128 characters",
    ),
}


def tamper(proof: str) -> str:
    """The proof with its claims changed after signing."""
    header, payload, signature = proof.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["jti"] += "-changed"
    return ".".join((header, b64(json.dumps(claims).encode()), signature))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(
    bound: Bound,
    *,
    drop: str | None = None,
    typ: str = "dpop+jwt",
    alg: str = "Ed25519",
    private_jwk: bool = False,
    jwk: object = "public",
    crit: list[str] | None = None,
    payload: str | None = None,
) -> str:
    """A proof by the token's key, signed as asked (joserfc signs whatever header it is given;
    an HS256 one is signed with a shared secret)."""
    from joserfc import jws
    from joserfc.jwk import OctKey, OKPKey

    key = OKPKey.import_key(bound.key)
    claims: dict[str, Any] = {
        "jti": f"j-{time.time_ns()}",
        "htm": "POST",
        "htu": URL,
        "iat": int(time.time()),
        "ath": proofs.access_token_hash(bound.token),
    }
    if drop:
        del claims[drop]
    header: dict[str, Any] = {"typ": typ, "alg": alg}
    if jwk is not None:
        header["jwk"] = key.as_dict(private=private_jwk)
    if crit:
        header["crit"] = crit
    signer: Any = OctKey.import_key("s" * 32) if alg == "HS256" else key
    body = payload if payload is not None else json.dumps(claims)
    # Put together by hand: joserfc refuses to sign with a header it knows to be wrong.
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(body.encode())}"
    signature = jws.default_registry.algorithms[alg].sign(signing_input.encode(), signer)
    return f"{signing_input}.{b64(signature)}"


@pytest.mark.parametrize("case", list(BAD_PROOFS))
async def test_a_bad_proof_is_refused_and_writes_nothing(
    world: World, runtime: Runtime, case: str
) -> None:
    bound = await bind(runtime, world)
    make, reason = BAD_PROOFS[case]
    async with client(runtime) as http:
        challenge, audited = await refused(runtime, http, bound.headers(make(bound)))
    assert challenge == invalid_proof(reason)
    assert audited == f"dpop: {reason}"


async def test_two_dpop_headers_are_refused(world: World, runtime: Runtime) -> None:
    bound = await bind(runtime, world)
    async with client(runtime) as http, nothing_written(runtime):
        response = await http.post(
            "/graphql",
            json={"query": VIEWER},
            headers=[
                ("Authorization", f"DPoP {bound.token}"),
                ("DPoP", bound.proof()),
                ("DPoP", bound.proof()),
            ],
        )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == invalid_proof(
        "send exactly one DPoP header with a DPoP-bound token"
    )


async def test_a_proof_for_get_is_good_for_a_get_query_only(world: World, runtime: Runtime) -> None:
    from tests.security.gate_support import with_settings

    getting = with_settings(runtime, allow_get_queries=True)
    bound = await bind(runtime, world)
    async with client(getting) as http:
        # htu has no query: the proof names the URL without it.
        response = await http.get(
            "/graphql", params={"query": VIEWER}, headers=bound.headers(bound.proof("GET"))
        )
        assert response.status_code == 200, response.text
        challenge, _ = await refused(getting, http, bound.headers(bound.proof("POST")), "GET")
    assert challenge == invalid_proof("htm must be the request's method")


async def test_a_revoked_or_unbound_token_is_refused_with_a_good_proof(
    world: World, runtime: Runtime
) -> None:
    bound = await bind(runtime, world)
    async with open_scope(runtime) as scope:
        await auth.revoke_token(scope, token_or_id=bound.token)
    plain = (await world.agency("PLAIN")).token
    unknown = Bound(token="chb_" + "x" * 43, key=bound.key, agency=bound.agency)
    async with client(runtime) as http:
        for presented, reason in (
            (bound, "revoked"),
            (Bound(token=plain, key=bound.key, agency=""), "not bound"),
            (unknown, "unknown"),
        ):
            challenge, audited = await refused(runtime, http, presented.headers())
            assert (challenge, audited) == (INVALID_TOKEN, f"dpop: {reason}")


async def test_refusals_count_as_failed_authentications(world: World, runtime: Runtime) -> None:
    from tests.security.gate_support import with_settings

    strict = with_settings(runtime, auth_failures_per_minute=1, auth_failure_burst=2)
    bound = await bind(runtime, world)
    async with client(strict, "10.9.8.7") as http:
        for _ in range(2):
            await refused(strict, http, {"Authorization": f"DPoP {bound.token}"})
        response = await viewer(http, bound.headers())
    assert response.status_code == 429, response.text


async def test_the_replay_cache_holds_across_two_apps_on_one_database(
    world: World, runtime: Runtime, settings: Any
) -> None:
    """Two replicas: two apps, each with its own runtime (engine, pool), on one database."""
    from casehub.app import build_runtime

    other = build_runtime(settings)
    try:
        bound = await bind(runtime, world)
        proof = bound.proof()
        async with client(runtime) as first, client(other) as second:
            assert (await viewer(first, bound.headers(proof))).status_code == 200
            challenge, _ = await refused(other, second, bound.headers(proof))
            assert challenge == invalid_proof("this proof was used before (its jti)")
            # The same new proof at both at once: exactly one accepts it.
            proof = bound.proof()
            answers = await asyncio.gather(
                viewer(first, bound.headers(proof)), viewer(second, bound.headers(proof))
            )
        assert sorted(answer.status_code for answer in answers) == [200, 401]
    finally:
        await other.database.dispose()


async def test_expired_proofs_are_pruned_a_batch_at_a_time(world: World, runtime: Runtime) -> None:
    bound = await bind(runtime, world)
    async with open_scope(runtime) as scope, scope.store.transaction():
        # Only this test's rows, so that the count is exact whatever ran before.
        await scope.store.session.execute(delete(DpopProofRow))
        past = scope.now - timedelta(days=1)
        scope.store.add(
            *(
                DpopProofRow(jkt="p" * 43, jti=f"old-{n}", expires_at=past)
                for n in range(PRUNE_BATCH + 5)
            )
        )
    async with client(runtime) as http:
        assert (await viewer(http, bound.headers())).status_code == 200
        # One batch of expired proofs went, and the new proof was kept.
        assert await stored_proofs(runtime) == 5 + 1
        assert (await viewer(http, bound.headers())).status_code == 200
    assert await stored_proofs(runtime) == 2


async def test_a_browser_tool_may_send_a_proof_and_read_the_challenge(
    world: World, runtime: Runtime
) -> None:
    from tests.security.gate_support import with_settings

    origin = "https://tool.example"
    cors = with_settings(runtime, cors_origins=[origin])
    bound = await bind(runtime, world)
    async with client(cors) as http:
        preflight = await http.options(
            "/graphql",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, dpop, content-type",
            },
        )
        assert preflight.status_code == 200, preflight.text
        assert "dpop" in preflight.headers["access-control-allow-headers"].lower()
        response = await viewer(http, {**bound.headers("not-a-proof"), "Origin": origin})
    assert response.status_code == 401
    assert "www-authenticate" in response.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize("scheme", ["Bearer", "DPoP"])
async def test_a_bound_token_without_its_key_is_refused_in_the_time_of_a_revoked_one(
    world: World, runtime: Runtime, scheme: str
) -> None:
    """Without its key, a bound token (as Bearer, or as DPoP with a proof by another key) is
    refused after the one look-up every refused token takes: it takes the time of a revoked
    token, so that binding adds no timing beyond what a known token already shows."""
    from tests.security.gate_support import with_settings
    from tests.security.timing_support import interleaved

    lenient = with_settings(runtime, auth_failures_per_minute=1e9, auth_failure_burst=10**9)
    bound, revoked = await bind(runtime, world), await bind(runtime, world)
    async with open_scope(runtime) as scope:
        await auth.revoke_token(scope, token_or_id=revoked.token)
    thief = proofs.new_key()

    def headers(token: str) -> dict[str, str]:
        if scheme == "Bearer":
            return {"Authorization": f"Bearer {token}"}
        proof = proofs.make_proof(thief, method="POST", url=URL, token=token)
        return {"Authorization": f"DPoP {token}", "DPoP": proof}

    async with client(lenient) as http:

        async def ask(token: str) -> None:
            assert (await viewer(http, headers(token))).status_code == 401

        async def hidden() -> None:
            await ask(bound.token)

        async def missing() -> None:
            await ask(revoked.token)

        comparison = await interleaved(
            f"bound token as {scheme}",
            hidden,
            missing,
            rounds=200,
            warmup=10,
            seed=len(scheme),
            budget=6.0,
            least=80,
        )
    print(comparison)  # the measurement, shown with -s
    assert not comparison.systematic, str(comparison)
