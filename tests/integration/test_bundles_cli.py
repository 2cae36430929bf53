"""`casehub requests bundle`, `casehub requests verify`, `casehub keys public` and `casehub agency
keygen/sign`: the real console script. Requests are taken through their signed steps over the
GraphQL API under the default signing policy (on both engines); bundles are exported from the
database and verified offline (no database, no keyring) against the trust file, which names the
first bad item of a tampered bundle. A step written straight into the database, or a request
edited there, fails both the hub's own verification and the bundle's.
"""

from __future__ import annotations

import copy
import json
import os
import stat
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from casehub.app import build_runtime, create_app
from casehub.config import Environment, Settings
from casehub.crypto import LocalKeyring
from casehub.crypto.agency_keys import AgencyPrivateKey, AgencyPublicKey
from casehub.domain.enums import AgencyKind
from casehub.domain.ids import new_id
from casehub.domain.requests.receipts import event_timestamp, issue_receipt
from casehub.domain.signatures import (
    SigningAlgorithm,
    format_instant,
    parse_instant,
    revocation_statement,
    signature_digest,
    statement_bytes,
    statement_sha256,
)
from casehub.persistence.tables import RequestEventRow
from casehub.services.runtime import Runtime, open_scope
from tests.conftest import Agency, GraphQL, World
from tests.integration.request_world import CASEHUB, TIMEOUT
from tests.integration.test_receipts_cli import offline, write
from tests.signing_support import (
    accredited_key,
    principal_of,
    read_content,
    signature_input,
    step_content,
    uuid_of,
)

Document = dict[str, Any]
CREATE = """mutation($i: CreateCooperationRequestInput!) { createCooperationRequest(input: $i)
  { request { id status } errors { code field message } } }"""
STEP = """mutation($i: %s!) { %sCooperationRequest(input: $i)
  { request { id status } errors { code field message } } }"""
INPUTS = {
    "submit": "RequestStepInput",
    "approve": "ApproveCooperationRequestInput",
    "acknowledge": "RequestStepInput",
    "accept": "RequestStepInput",
    "fulfil": "FulfilCooperationRequestInput",
}
VERIFICATION = """query($id: ID!) { node(id: $id) { ... on CooperationRequest {
  verification { eventNumber action status reason required } } } }"""
FULFILMENT = "Subscriber record attached."
THREAT = "A credible threat to a named person's life."


@dataclass
class Hub:
    """A runtime under the default signing policy, its GraphQL client, two agencies with
    accredited keys, the CLI's environment and the trust file."""

    settings: Settings
    runtime: Runtime
    gql: GraphQL
    police: Agency
    platform: Agency
    root: Path
    keys: dict[str, AgencyPrivateKey] = field(default_factory=dict)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`casehub ARGS` on the hub's database and keyring."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("CASEHUB_")}
        env["CASEHUB_DATABASE_URL"] = self.settings.database_url
        env["CASEHUB_KEYRING"] = str(self.settings.keyring)
        return subprocess.run(
            [str(CASEHUB), *args],
            env=env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    @property
    def trust(self) -> Path:
        return self.root / "hub-keys.json"

    def keyring(self) -> LocalKeyring:
        return LocalKeyring.load(self.settings.keyring)

    async def step(self, token: str, name: str, data: dict[str, Any]) -> str:
        body = await self.gql(token, STEP % (INPUTS[name], name), {"i": data})
        assert "errors" not in body, body
        payload = body["data"][f"{name}CooperationRequest"]
        assert payload["errors"] == [], payload
        status: str = payload["request"]["status"]
        return status

    async def signature(
        self, agency: Agency, token: str, request_id: str, action: str, **content: Any
    ) -> dict[str, str]:
        read = await read_content(self.gql, token, request_id)
        return signature_input(
            self.keys[agency.code],
            step_content(read, action, **content),
            agency=agency.uuid,
            principal=await principal_of(self.gql, token),
        )

    async def request(self, priority: str = "ROUTINE", *, answered: bool = True) -> str:
        """A request from the police to the platform, submitted (and approved, EMERGENCY),
        acknowledged, accepted and fulfilled, every signable step signed."""
        particulars = {"imminentThreat": THREAT} if priority == "EMERGENCY" else None
        created = await self.gql(
            self.police.token,
            CREATE,
            {
                "i": {
                    "requestedAgencyId": self.platform.id,
                    "kind": "INFORMATION_REQUEST",
                    "priority": priority,
                    "legalBasis": "Budapest Convention art. 29",
                    "title": "Account holder",
                    "body": "Who holds the account?",
                    "particulars": particulars,
                }
            },
        )
        payload = created["data"]["createCooperationRequest"]
        assert payload["errors"] == [], payload
        request_id: str = payload["request"]["id"]
        submit = await self.signature(self.police, self.police.token, request_id, "SUBMIT")
        await self.step(self.police.token, "submit", {"id": request_id, "signature": submit})
        if priority == "EMERGENCY":
            supervisor = self.police.tokens["SUPERVISOR"]
            approve = await self.signature(
                self.police,
                supervisor,
                request_id,
                "APPROVE",
                countersigns=statement_sha256(submit["statement"]),
            )
            await self.step(supervisor, "approve", {"id": request_id, "signature": approve})
        if not answered:
            return request_id
        token = self.platform.token
        await self.step(token, "acknowledge", {"id": request_id})
        accept = await self.signature(self.platform, token, request_id, "ACCEPT")
        await self.step(token, "accept", {"id": request_id, "signature": accept})
        fulfil = await self.signature(
            self.platform, token, request_id, "FULFIL", text=FULFILMENT, outcome="FULL"
        )
        await self.step(
            token,
            "fulfil",
            {"id": request_id, "outcome": "FULL", "message": FULFILMENT, "signature": fulfil},
        )
        return request_id

    def bundle(self, request_id: str) -> Document:
        path = self.root / f"{uuid_of(request_id)}.json"
        result = self.run("requests", "bundle", request_id, "--output", str(path))
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        document: Document = json.loads(path.read_text(encoding="utf-8"))
        return document

    async def verification(self, request_id: str) -> list[dict[str, Any]]:
        body = await self.gql(self.police.token, VERIFICATION, {"id": request_id})
        assert "errors" not in body, body
        steps: list[dict[str, Any]] = body["data"]["node"]["verification"]
        return steps


@pytest.fixture(scope="module")
async def hub(
    database_url: str, keyring_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hub]:
    # The default signing policy: EMERGENCY requests and requests to a platform are signed.
    settings = Settings(env=Environment.PRODUCTION, database_url=database_url, keyring=keyring_path)
    runtime = build_runtime(settings)
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
            world = World(runtime)
            police = await world.agency("POL")
            platform = await world.agency("PLT", "AE", AgencyKind.SERVICE_PROVIDER)
            found = Hub(
                settings, runtime, GraphQL(http), police, platform, tmp_path_factory.mktemp("b")
            )
            for agency in (police, platform):
                key, _key_id = await accredited_key(
                    found.gql, agency.tokens["AGENCY_ADMIN"], agency.tokens["HUB_ADMIN"]
                )
                found.keys[agency.code] = key
            written = found.run("keys", "public", "--output", str(found.trust))
            assert written.returncode == 0, written.stderr
            yield found
    finally:
        await runtime.database.dispose()


@pytest.fixture(scope="module")
async def emergency(hub: Hub) -> Document:
    """The bundle of an EMERGENCY request to the platform, approved: six events, four
    signatures (submission, approval, acceptance, fulfilment)."""
    return hub.bundle(await hub.request("EMERGENCY"))


def verify(hub: Hub, tmp: Path, document: object, *args: str) -> subprocess.CompletedProcess[str]:
    path = write(tmp / "bundle.json", document)
    return offline(tmp, "requests", "verify", str(path), "--trust", str(hub.trust), *args)


# export and verify


async def test_a_signed_request_verifies_offline(hub: Hub, tmp_path: Path) -> None:
    request_id = await hub.request()
    document = hub.bundle(request_id)
    assert document["format"] == "casehub-bundle/1"
    assert document["request"] == {
        "id": request_id,
        "kind": "INFORMATION_REQUEST",
        "priority": "ROUTINE",
        "requester": {"id": str(hub.police.uuid), "kind": "LAW_ENFORCEMENT"},
        "requested": {"id": str(hub.platform.uuid), "kind": "SERVICE_PROVIDER"},
    }
    receipts = document["receipts"]
    assert receipts["format"] == "casehub-receipts/1"
    assert [r["event"]["action"] for r in receipts["receipts"]] == [
        "CREATE",
        "SUBMIT",
        "ACKNOWLEDGE",
        "ACCEPT",
        "FULFIL",
    ]
    assert [(s["event"], s["role"]) for s in document["signatures"]] == [
        (2, "SIGNER"),
        (4, "SIGNER"),
        (5, "SIGNER"),
    ]
    signature = document["signatures"][0]
    assert set(signature) == {
        "event",
        "role",
        "statement",
        "signature",
        "publicKey",
        "accreditation",
        "revocation",
    }
    assert signature["publicKey"] == hub.keys[hub.police.code].public.to_jwk()
    assert signature["revocation"] is None
    keyring = hub.keyring()
    assert signature["accreditation"]["hubKey"] == keyring.accreditation_signer().public.thumbprint
    assert document["policy"] == {
        "signedSteps": "emergency-or-service-provider",
        "mustSign": ["ACCEPT", "APPROVE", "DECLINE", "FULFIL", "SUBMIT"],
        "statementSkewSeconds": 300,
    }
    trust = json.loads(hub.trust.read_text(encoding="utf-8"))
    assert trust == {
        "receipts": keyring.receipt_public_keys(),
        "accreditation": keyring.accreditation_public_keys(),
    }
    assert document["hubKeys"] == trust

    result = verify(hub, tmp_path, document)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "verified: 5 events, 3 signatures"

    as_json = verify(hub, tmp_path, document, "--json")
    assert json.loads(as_json.stdout) == {
        "ok": True,
        "events": 5,
        "signatures": 3,
        "require": "emergency-or-service-provider",
    }


def test_an_approved_emergency_request_verifies(
    hub: Hub, emergency: Document, tmp_path: Path
) -> None:
    assert [(s["event"], s["role"]) for s in emergency["signatures"]] == [
        (2, "SIGNER"),
        (3, "COUNTERSIGNER"),
        (5, "SIGNER"),
        (6, "SIGNER"),
    ]
    result = verify(hub, tmp_path, emergency, "--require", "all")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "verified: 6 events, 4 signatures"


# tampering with the exported file


def signature_on(document: Document, number: int) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in document["signatures"] if s["event"] == number)
    return found


def rechain(hub: Hub, document: Document) -> None:
    """The receipt chain issued again with the hub's receipt key (an attacker who has it)."""
    prev = None
    for receipt in document["receipts"]["receipts"]:
        issued = issue_receipt(receipt["event"], prev, hub.keyring().receipt_signer())
        receipt.update(issued.to_dict())
        prev = issued.digest


def edit_statement(hub: Hub, document: Document) -> None:
    entry = signature_on(document, 5)
    entry["statement"] = entry["statement"].replace('"EMERGENCY"', '"URGENT"')


def swap_signatures(hub: Hub, document: Document) -> None:
    first, second = signature_on(document, 5), signature_on(document, 6)
    first["signature"], second["signature"] = second["signature"], first["signature"]


def remove_signature(hub: Hub, document: Document) -> None:
    document["signatures"].remove(signature_on(document, 6))


def edit_receipt_digest(hub: Hub, document: Document) -> None:
    document["receipts"]["receipts"][1]["event"]["signatures"] = ["0" * 64]


def reorder_receipts(hub: Hub, document: Document) -> None:
    receipts = document["receipts"]["receipts"]
    receipts[2], receipts[3] = receipts[3], receipts[2]


def foreign_accreditation(hub: Hub, document: Document) -> None:
    """The accreditation re-signed by a key the trust file does not hold."""
    stranger = AgencyPrivateKey.generate(SigningAlgorithm.ED25519_ML_DSA_65)
    accreditation = signature_on(document, 2)["accreditation"]
    accreditation["signature"] = stranger.sign(accreditation["statement"].encode())
    accreditation["hubKey"] = stranger.public.thumbprint


def revoked_before_issue(hub: Hub, document: Document) -> None:
    """A genuine hub revocation dated before the statement: the key was stolen by then."""
    entry = signature_on(document, 5)
    statement = json.loads(entry["statement"])
    issued = parse_instant(statement["issuedAt"])
    assert issued is not None
    text = statement_bytes(
        revocation_statement(
            agency=statement["agency"],
            thumbprint=statement["key"],
            revoked_at=issued - timedelta(seconds=1),
            reason="key stolen",
        )
    )
    signer = hub.keyring().accreditation_signer()
    entry["revocation"] = {"statement": text.decode(), "signature": signer.sign(text)}


def resign(hub: Hub, document: Document, number: int, edit: Callable[[Document], None]) -> None:
    """A step's statement edited and signed again with its agency's key, and committed to by
    a chain re-issued with the hub's key (an attacker holding all three)."""
    entry = signature_on(document, number)
    statement = json.loads(entry["statement"])
    edit(statement)
    text = statement_bytes(statement)
    key = next(k for k in hub.keys.values() if k.public.thumbprint == statement["key"])
    old = signature_digest(entry["statement"], entry["signature"])
    entry["statement"], entry["signature"] = text.decode(), key.sign(text)
    event = document["receipts"]["receipts"][number - 1]["event"]
    assert event["signatures"] == [old]
    event["signatures"] = [signature_digest(entry["statement"], entry["signature"])]
    rechain(hub, document)


def wrong_countersign(hub: Hub, document: Document) -> None:
    """The approval re-signed by the police's own key over another submission, committed to
    by a chain re-issued with the hub's key: only the countersignature gives it away."""

    def edit(statement: Document) -> None:
        statement["countersigns"] = "0" * 64

    resign(hub, document, 3, edit)


Tamper = Callable[[Hub, Document], None]
TAMPERING: list[Any] = [
    pytest.param(edit_statement, "event 5 (ACCEPT): signature", id="statement-edited"),
    pytest.param(swap_signatures, "event 5 (ACCEPT): signature", id="signature-swapped"),
    pytest.param(remove_signature, "event 6 (FULFIL): signature missing", id="signature-removed"),
    pytest.param(
        edit_receipt_digest,
        "receipt 2 of 6 (event 2, SUBMIT): the digest does not match",
        id="receipt-digest-edited",
    ),
    pytest.param(
        reorder_receipts, "receipt 3 of 6 (event 4, ACKNOWLEDGE): prev_digest", id="reordered"
    ),
    pytest.param(
        foreign_accreditation,
        "event 2 (SUBMIT): accreditation signature",
        id="accreditation-re-signed",
    ),
    pytest.param(revoked_before_issue, "event 5 (ACCEPT): key revoked", id="revoked-before"),
    pytest.param(
        wrong_countersign, "event 3 (APPROVE): statement:countersigns", id="countersign-wrong"
    ),
]


@pytest.mark.parametrize(("tamper", "named"), TAMPERING)
def test_verify_names_the_first_bad_item(
    hub: Hub, emergency: Document, tmp_path: Path, tamper: Tamper, named: str
) -> None:
    document = copy.deepcopy(emergency)
    tamper(hub, document)
    result = verify(hub, tmp_path, document)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {tmp_path / 'bundle.json'}: {named}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

    as_json = verify(hub, tmp_path, document, "--json")
    assert as_json.returncode == 1
    summary = json.loads(as_json.stdout)
    assert summary["ok"] is False
    assert f"{summary['bad']}: {summary['reason']}".startswith(named)


def test_the_keys_shipped_in_the_file_are_not_trusted(
    hub: Hub, emergency: Document, tmp_path: Path
) -> None:
    stranger = AgencyPrivateKey.generate(SigningAlgorithm.ED25519_ML_DSA_65)
    document = copy.deepcopy(emergency)
    foreign_accreditation(hub, document)
    document["hubKeys"]["accreditation"] = {
        "keys": [{**stranger.public.to_jwk(), "kid": stranger.public.thumbprint}]
    }
    result = verify(hub, tmp_path, document)
    assert result.returncode == 1
    assert "event 2 (SUBMIT): accreditation signature" in result.stderr


def test_a_statement_dated_away_from_its_receipt_fails(
    hub: Hub, emergency: Document, tmp_path: Path
) -> None:
    """issuedAt must be within --max-skew of the step's receipt time, so a statement signed
    with a stolen key cannot claim a time before the key's revocation (tests/unit/
    test_bundles.py backdates one; here the key's accreditation is too young for that)."""
    document = copy.deepcopy(emergency)

    def postdate(statement: Document) -> None:
        issued = parse_instant(statement["issuedAt"])
        assert issued is not None
        statement["issuedAt"] = format_instant(issued + timedelta(minutes=10))

    resign(hub, document, 6, postdate)
    result = verify(hub, tmp_path, document)
    assert result.returncode == 1
    assert "event 6 (FULFIL): statement:issuedAt" in result.stderr, result.stderr
    allowed = verify(hub, tmp_path, document, "--max-skew", "900")
    assert allowed.returncode == 0, allowed.stderr


# written straight into the database


async def test_a_step_written_into_the_database_is_unsigned(hub: Hub, tmp_path: Path) -> None:
    """Someone with the database and the hub's receipt key, not the platform's agency key,
    adds an ACCEPT: the hub shows it UNSIGNED, and the bundle fails on it."""
    request_id = await hub.request(answered=False)
    request = uuid_of(request_id)
    async with open_scope(hub.runtime) as scope, scope.store.transaction():
        row = (await scope.store.requests_by_ids([request]))[0]
        previous = await scope.store.last_event(request)
        assert previous is not None
        await scope.store.update_request_if_version(row.id, row.version, {"status": "ACCEPTED"})
        # As casehub.services.requests.events.record_event writes an event.
        actor = await principal_of(hub.gql, hub.platform.token)
        event: dict[str, object] = {
            "request": str(request),
            "number": previous.number + 1,
            "action": "ACCEPT",
            "from": "SUBMITTED",
            "to": "ACCEPTED",
            "requester": str(row.requester_agency_id),
            "requested": str(row.requested_agency_id),
            "actorAgency": str(hub.platform.uuid),
            "actorPrincipal": str(actor),
            "at": event_timestamp(scope.now),
            "messageSha256": None,
        }
        receipt = issue_receipt(event, previous.digest, hub.keyring().receipt_signer())
        scope.store.add(
            RequestEventRow(
                id=new_id(),
                request_id=request,
                number=previous.number + 1,
                action="ACCEPT",
                from_status="SUBMITTED",
                to_status="ACCEPTED",
                actor_agency_id=hub.platform.uuid,
                actor_principal_id=actor,
                requester_agency_id=row.requester_agency_id,
                requested_agency_id=row.requested_agency_id,
                visible_to_requested=True,
                message_id=None,
                occurred_at=scope.now,
                digest=receipt.digest,
                prev_digest=receipt.prev_digest,
                signature=receipt.signature,
                key_id=receipt.key_id,
                payload=json.dumps(receipt.event, sort_keys=True, separators=(",", ":")),
                position_xid=previous.position_xid,
            )
        )

    steps = {step["action"]: step for step in await hub.verification(request_id)}
    assert steps["SUBMIT"]["status"] == "VERIFIED"
    assert steps["ACCEPT"] == {
        "eventNumber": 3,
        "action": "ACCEPT",
        "status": "UNSIGNED",
        "reason": None,
        "required": True,
    }

    result = verify(hub, tmp_path, hub.bundle(request_id))
    assert result.returncode == 1, result.stdout
    assert "event 3 (ACCEPT): unsigned but required" in result.stderr, result.stderr
    # Only a verifier who asks for no signatures at all lets it pass.
    relaxed = verify(hub, tmp_path, hub.bundle(request_id), "--require", "none")
    assert relaxed.returncode == 0, relaxed.stderr


async def test_a_priority_edited_in_the_database_fails_on_the_statement(
    hub: Hub, tmp_path: Path
) -> None:
    request_id = await hub.request()
    async with open_scope(hub.runtime) as scope, scope.store.transaction():
        row = (await scope.store.requests_by_ids([uuid_of(request_id)]))[0]
        assert await scope.store.update_request_if_version(
            row.id, row.version, {"priority": "URGENT"}
        )

    steps = await hub.verification(request_id)
    assert [(step["action"], step["status"], step["reason"]) for step in steps] == [
        ("SUBMIT", "INVALID", "statement:priority"),
        ("ACCEPT", "INVALID", "statement:priority"),
        ("FULFIL", "INVALID", "statement:priority"),
    ]
    document = hub.bundle(request_id)
    assert document["request"]["priority"] == "URGENT"
    result = verify(hub, tmp_path, document)
    assert result.returncode == 1
    assert "event 2 (SUBMIT): statement:priority" in result.stderr, result.stderr


# bad input


@pytest.mark.parametrize(
    ("bundle", "trust", "message"),
    [
        pytest.param(None, "trust", "cannot read bundle file", id="missing-bundle"),
        pytest.param("{nope", "trust", "is not JSON", id="bundle-not-json"),
        pytest.param('{"format": "x"}', "trust", "casehub-bundle/1", id="not-a-bundle"),
        pytest.param("bundle", None, "cannot read trust file", id="missing-trust"),
        pytest.param("bundle", "[1]", "trust file is not a JSON object", id="trust-array"),
        pytest.param("bundle", '{"receipts": {"keys": []}}', "'accreditation'", id="trust-half"),
    ],
)
def test_verify_refuses_files_it_cannot_use(
    hub: Hub,
    emergency: Document,
    tmp_path: Path,
    bundle: str | None,
    trust: str | None,
    message: str,
) -> None:
    bundle_path, trust_path = tmp_path / "bundle.json", tmp_path / "trust.json"
    if bundle == "bundle":
        write(bundle_path, emergency)
    elif bundle is not None:
        bundle_path.write_text(bundle, encoding="utf-8")
    if trust == "trust":
        trust_path.write_bytes(hub.trust.read_bytes())
    elif trust is not None:
        trust_path.write_text(trust, encoding="utf-8")
    result = offline(tmp_path, "requests", "verify", str(bundle_path), "--trust", str(trust_path))
    assert result.returncode == 1, result.stdout
    assert result.stdout == ""
    assert result.stderr.startswith("error: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr, result.stderr


def test_verify_refuses_an_unknown_policy(hub: Hub, emergency: Document, tmp_path: Path) -> None:
    result = verify(hub, tmp_path, emergency, "--require", "some")
    assert result.returncode == 2
    assert "--require" in result.stderr


@pytest.mark.parametrize(
    "request_id",
    [
        pytest.param(str(UUID(int=7)), id="unknown"),
        pytest.param("not-an-id", id="garbage"),
    ],
)
def test_bundle_refuses_ids_that_name_no_request(hub: Hub, request_id: str) -> None:
    result = hub.run("requests", "bundle", request_id)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: "), result.stderr


def test_keys_public_needs_the_keyring(tmp_path: Path) -> None:
    result = offline(tmp_path, "keys", "public")
    assert result.returncode != 0
    assert result.stderr.startswith("error: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# agency keygen and sign (no database, no keyring)


@pytest.mark.parametrize(
    ("hybrid", "algorithm"),
    [
        pytest.param(False, SigningAlgorithm.ED25519, id="ed25519"),
        pytest.param(True, SigningAlgorithm.ED25519_ML_DSA_65, id="hybrid"),
    ],
)
def test_keygen_writes_a_private_key_file_and_prints_the_public_key(
    tmp_path: Path, hybrid: bool, algorithm: SigningAlgorithm
) -> None:
    path = tmp_path / "agency.key"
    args = ["agency", "keygen", "--output", str(path), *(["--hybrid"] if hybrid else [])]
    result = offline(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    public = AgencyPublicKey.from_jwk(json.loads(result.stdout))
    private = AgencyPrivateKey.load(path)
    assert public == private.public
    assert public.algorithm is algorithm
    assert public.thumbprint in result.stderr

    again = offline(tmp_path, *args)
    assert again.returncode == 1
    assert again.stdout == ""
    assert "exists" in again.stderr
    assert "never overwrites" in again.stderr
    assert AgencyPrivateKey.load(path).public == public, "the key file is left as it was"

    nowhere = offline(tmp_path, "agency", "keygen", "--output", str(tmp_path / "no" / "k"))
    assert nowhere.returncode == 1
    assert nowhere.stderr.startswith("error: cannot write"), nowhere.stderr


def a_statement(key: AgencyPrivateKey) -> bytes:
    """A step statement naming key (its content need not be a real request's)."""
    content = step_content(
        {
            "id": "Q29vcGVyYXRpb25SZXF1ZXN0OjZmMWMxYTUyLThhNWUtNGMxZS05YTQ3LTBkM2IxZjBlOWIxMQ",
            "kind": "INFORMATION_REQUEST",
            "priority": "ROUTINE",
            "requester": {"id": "QWdlbmN5OjBiN2U2YTNjLTJmMGQtNGQ1ZS04YTU5LTNjMWUyZDRmNWE2Yg"},
            "requested": {"id": "QWdlbmN5OjlhOGI3YzZkLTVlNGYtNGEzYi04YzJkLTFlMGY5YThiN2M2ZA"},
            "legalBasis": None,
            "body": "Who holds the account?",
            "particulars": None,
            "evidence": [],
        },
        "SUBMIT",
    )
    signed = signature_input(key, content, agency=UUID(int=1), principal=UUID(int=2))
    return signed["statement"].encode()


def test_sign_prints_a_signature_that_verifies(tmp_path: Path) -> None:
    key_path = tmp_path / "agency.key"
    assert offline(tmp_path, "agency", "keygen", "--output", str(key_path)).returncode == 0
    key = AgencyPrivateKey.load(key_path)
    statement = a_statement(key)
    statement_path = tmp_path / "statement.json"
    statement_path.write_bytes(statement)
    result = offline(
        tmp_path, "agency", "sign", "--key", str(key_path), "--statement", str(statement_path)
    )
    assert result.returncode == 0, result.stderr
    assert key.public.verify(statement, result.stdout.strip())
    assert result.stdout.endswith("\n")
    assert result.stdout.count("\n") == 1


def group_readable(path: Path) -> None:
    path.chmod(0o640)


@pytest.mark.parametrize(
    ("key_file", "statement_file", "message"),
    [
        pytest.param("missing", "good", "No key file", id="missing-key"),
        pytest.param('{"format": "casehub-agency-key/0"}', "good", "format", id="key-format"),
        pytest.param("not json", "good", "not JSON", id="key-not-json"),
        pytest.param("readable", "good", "chmod 600", id="key-group-readable"),
        pytest.param("good", "missing", "cannot read the statement", id="missing-statement"),
        pytest.param("good", "newline", "canonical", id="statement-newline"),
        pytest.param("good", "spaced", "canonical", id="statement-spaced"),
        pytest.param("good", '{"a":1}', "malformed", id="not-a-statement"),
        pytest.param("good", "other-key", "not this key", id="another-keys-statement"),
        pytest.param("good", "binary", "not UTF-8", id="statement-binary"),
        pytest.param("good", "large", "longer than 8192 bytes", id="statement-too-long"),
    ],
)
def test_sign_refuses_bad_input_in_one_line(
    tmp_path: Path, key_file: str, statement_file: str, message: str
) -> None:
    key_path, statement_path = tmp_path / "agency.key", tmp_path / "statement.json"
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519)
    if key_file in ("good", "readable"):
        key.save(key_path)
        if key_file == "readable":
            group_readable(key_path)
    elif key_file != "missing":
        key_path.write_text(key_file, encoding="utf-8")
        key_path.chmod(0o600)
    statement = a_statement(key)
    contents = {
        "good": statement,
        "newline": statement + b"\n",
        "spaced": json.dumps(json.loads(statement), indent=1).encode(),
        "other-key": a_statement(AgencyPrivateKey.generate(SigningAlgorithm.ED25519)),
        "binary": b"\xff\xfe{}",
        "large": b"{" + b" " * 9000 + b"}",
    }
    if statement_file != "missing":
        statement_path.write_bytes(contents.get(statement_file, statement_file.encode()))
    result = offline(
        tmp_path, "agency", "sign", "--key", str(key_path), "--statement", str(statement_path)
    )
    assert result.returncode == 1, result.stdout
    assert result.stdout == ""
    assert result.stderr.startswith("error: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr, result.stderr
