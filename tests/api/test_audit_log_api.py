"""The audit log's proofs over GraphQL: each listed event's inclusion proof, the newest signed
tree head and consistency proofs between heads, all checked with an independent RFC 9162
verifier and the hub's published keys; AGENCY_ADMIN only; bad sizes are VALIDATION errors."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from casehub.crypto import verify_with_jwks
from casehub.domain.audit.log import leaf_data
from casehub.services.audit.trail import entry_content
from casehub.services.runtime import Runtime, open_scope
from tests import rfc9162
from tests.support import integrate_everything

if TYPE_CHECKING:
    from tests.api.conftest import Api, GraphQLCall

EVENTS = """{ auditEvents(first: 100) { edges { node {
  id sequence inclusion { leafIndex leafHash treeSize rootHash hashes } } } } }"""
HEAD = """{ auditTreeHead { treeSize rootHash signedAt keyId statement signature } }"""
CONSISTENCY = """query($from: Int!, $to: Int!) {
  auditConsistencyProof(fromSize: $from, toSize: $to) { fromSize toSize hashes } }"""


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def _leaf_hashes(runtime: Runtime) -> dict[int, bytes]:
    """Leaf hashes recomputed from the stored entries, by leaf index."""
    async with open_scope(runtime) as scope:
        rows = await scope.store.audit_leaves(after_index=-1, limit=100_000)
    return {row.leaf_index or 0: rfc9162.hash_leaf(leaf_data(entry_content(row))) for row in rows}


async def test_listed_events_prove_their_inclusion_in_the_signed_head(
    api: Api, gql: GraphQLCall, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    owner = await api.agency("LOG")
    admin = owner.tokens["AGENCY_ADMIN"]
    case_id = (await api.open_case(owner.token))["id"]
    await api.populate(owner.token, case_id)
    await api.read_case(owner.token, case_id)

    before = (await gql(admin, EVENTS))["data"]["auditEvents"]["edges"]
    assert before
    assert all(edge["node"]["inclusion"] is None for edge in before)
    await integrate_everything(runtime)

    body = await gql(admin, HEAD)
    head = body["data"]["auditTreeHead"]
    statement = json.loads(head["statement"])
    assert statement == {
        "keyId": head["keyId"],
        "log": "casehub-audit-v1",
        "rootHash": head["rootHash"],
        "timestamp": statement["timestamp"],
        "treeSize": head["treeSize"],
    }
    jwks = (await client.get("/.well-known/casehub-receipts.json")).json()
    digest = hashlib.sha256(head["statement"].encode("ascii")).digest()
    assert verify_with_jwks(jwks, head["keyId"], digest, _b64url(head["signature"]))
    assert not verify_with_jwks(jwks, head["keyId"], digest[::-1], _b64url(head["signature"]))

    leaves = await _leaf_hashes(runtime)
    assert len(leaves) == head["treeSize"]
    root = bytes.fromhex(head["rootHash"])
    events = (await gql(admin, EVENTS))["data"]["auditEvents"]["edges"]
    assert len(events) == len(before)
    for edge in events:
        proof = edge["node"]["inclusion"]
        assert (proof["treeSize"], proof["rootHash"]) == (head["treeSize"], head["rootHash"])
        hashes = [bytes.fromhex(node) for node in proof["hashes"]]
        leaf = leaves[proof["leafIndex"]]
        assert proof["leafHash"] == leaf.hex()
        assert rfc9162.verify_inclusion(leaf, proof["leafIndex"], proof["treeSize"], hashes, root)
        assert (
            not rfc9162.verify_inclusion(
                leaf, proof["leafIndex"] ^ 1, proof["treeSize"], hashes, root
            )
            or len(leaves) == 1
        )


async def test_a_kept_head_is_consistent_with_every_later_one(
    api: Api, gql: GraphQLCall, runtime: Runtime
) -> None:
    owner = await api.agency("LOG")
    admin = owner.tokens["AGENCY_ADMIN"]
    heads: list[dict[str, Any]] = []
    for _ in range(3):
        await api.open_case(owner.token)
        await integrate_everything(runtime)
        heads.append((await gql(admin, HEAD))["data"]["auditTreeHead"])
    sizes = [head["treeSize"] for head in heads]
    assert sizes == sorted(set(sizes))
    for old in heads:
        for new in heads:
            if old["treeSize"] > new["treeSize"]:
                continue
            variables = {"from": old["treeSize"], "to": new["treeSize"]}
            proof = (await gql(admin, CONSISTENCY, variables))["data"]["auditConsistencyProof"]
            assert (proof["fromSize"], proof["toSize"]) == (old["treeSize"], new["treeSize"])
            hashes = [bytes.fromhex(node) for node in proof["hashes"]]
            old_root, new_root = bytes.fromhex(old["rootHash"]), bytes.fromhex(new["rootHash"])
            args = (old["treeSize"], new["treeSize"], old_root, new_root)
            assert rfc9162.verify_consistency(*args, hashes)
            if old["treeSize"] < new["treeSize"]:
                assert not rfc9162.verify_consistency(*args[:2], new_root, old_root, hashes)


@pytest.mark.parametrize(
    ("sizes", "field"), [((0, 1), "fromSize"), ((2, 1), "toSize"), ((1, 10**6), "toSize")]
)
async def test_bad_sizes_are_validation_errors(
    api: Api, gql: GraphQLCall, runtime: Runtime, sizes: tuple[int, int], field: str
) -> None:
    owner = await api.agency("LOG")
    await api.open_case(owner.token)
    await integrate_everything(runtime)
    body = await gql(owner.tokens["AGENCY_ADMIN"], CONSISTENCY, {"from": sizes[0], "to": sizes[1]})
    assert body["data"] is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION", error
    assert error["extensions"]["field"] == [field], error


@pytest.mark.parametrize("role", ["READER", "INVESTIGATOR", "LIAISON_OFFICER"])
async def test_only_an_agency_admin_reads_tree_heads_and_proofs(
    api: Api, gql: GraphQLCall, runtime: Runtime, role: str
) -> None:
    owner = await api.agency("LOG")
    await api.open_case(owner.token)
    await integrate_everything(runtime)
    for document, variables in ((HEAD, None), (CONSISTENCY, {"from": 1, "to": 1})):
        body = await gql(owner.tokens[role], document, variables)
        assert not any((body["data"] or {}).values()), body
        assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"]
