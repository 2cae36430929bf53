"""`casehub receipts export` and `casehub receipts verify`: the real console script against a
request taken through its whole life by the services; verification runs offline (no database,
no keyring) and names the first receipt of a tampered file."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from casehub.api.ids import to_global_id
from casehub.app import create_app
from casehub.crypto import ReceiptSigner
from casehub.domain.requests.receipts import issue_receipt, receipt_digest
from casehub.domain.requests.transitions import FulfilOutcome, RequestAction, RequestKind
from tests.integration.request_world import (
    CASEHUB,
    TIMEOUT,
    RequestHome,
    actors,
    disclosure_particulars,
    register_pair,
)

Document = dict[str, Any]
ACTIONS = ["CREATE", "SUBMIT", "ACKNOWLEDGE", "ACCEPT", "MESSAGE", "FULFIL", "CLOSE"]


@dataclass
class Exported:
    """The home, the two requests' ids and their exported documents, and the published JWKS."""

    home: RequestHome
    request: UUID
    other: UUID
    document: Document
    other_document: Document
    published_keys: Path


def offline(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`casehub ARGS` with neither a database nor a keyring to reach."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEHUB_")}
    env["CASEHUB_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp / 'absent' / 'none.db'}"
    env["CASEHUB_KEYRING"] = str(tmp / "absent" / "keyring.json")
    return subprocess.run(
        [str(CASEHUB), *args],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
async def exported(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """A DATA_DISCLOSURE request from draft to closed (7 receipts) and a withdrawn one (3)."""
    home = RequestHome(tmp_path_factory.mktemp("receipts"))
    await asyncio.to_thread(home.create)  # migrations run their own event loop
    async with actors(home) as world:
        await register_pair(world)
        request = await world.create(
            "MY-PDRM",
            "AE-RELAYGRAM",
            RequestKind.DATA_DISCLOSURE,
            particulars=disclosure_particulars(),
        )
        await world.step("MY-PDRM", request, RequestAction.SUBMIT)
        await world.step("AE-RELAYGRAM", request, RequestAction.ACKNOWLEDGE)
        await world.step("AE-RELAYGRAM", request, RequestAction.ACCEPT)
        await world.message("AE-RELAYGRAM", request, "Subscriber data follows today.")
        await world.step(
            "AE-RELAYGRAM",
            request,
            RequestAction.FULFIL,
            text="Subscriber record and 12 login IPs attached.",
            outcome=FulfilOutcome.FULL,
        )
        await world.step("MY-PDRM", request, RequestAction.CLOSE)

        other = await world.create(
            "MY-PDRM",
            "AE-RELAYGRAM",
            RequestKind.DATA_DISCLOSURE,
            particulars=disclosure_particulars(),
        )
        await world.step("MY-PDRM", other, RequestAction.SUBMIT)
        await world.step("MY-PDRM", other, RequestAction.WITHDRAW, text="Sent in error.")

    documents = []
    for request_id in (request, other):
        path = home.root / f"{request_id}.json"
        global_id = to_global_id("CooperationRequest", request_id)
        result = home.run("receipts", "export", global_id, "--output", str(path))
        assert result.returncode == 0, result.stderr
        assert result.stdout == "", "with --output nothing goes to stdout"
        documents.append(json.loads(path.read_text(encoding="utf-8")))

    app = create_app(home.settings())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
            response = await http.get("/.well-known/casehub-receipts.json")
    assert response.status_code == 200, response.text
    published = write(home.root / "published-jwks.json", response.json())
    return Exported(home, request, other, documents[0], documents[1], published)


# export


def test_export_writes_a_self_contained_document(exported: Exported, tmp_path: Path) -> None:
    document = exported.document
    assert set(document) == {"format", "request", "receipts", "keys"}
    assert document["format"] == "casehub-receipts/1"
    assert document["request"] == to_global_id("CooperationRequest", exported.request)
    receipts = document["receipts"]
    assert [receipt["event"]["action"] for receipt in receipts] == ACTIONS
    assert [receipt["event"]["number"] for receipt in receipts] == list(range(1, 8))
    assert {receipt["event"]["request"] for receipt in receipts} == {str(exported.request)}
    for receipt in receipts:
        assert set(receipt) == {"event", "prev_digest", "digest", "signature", "key_id"}
    assert document["keys"] == json.loads(exported.published_keys.read_text(encoding="utf-8"))

    # The bare UUID works too, and without --output the document goes to stdout.
    by_uuid = exported.home.run("receipts", "export", str(exported.request))
    assert by_uuid.returncode == 0, by_uuid.stderr
    assert json.loads(by_uuid.stdout) == document

    path = write(tmp_path / "receipts.json", document)
    verified = offline(tmp_path, "receipts", "verify", str(path))
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("verified 7 receipts"), verified.stdout


@pytest.mark.parametrize(
    "request_id",
    [
        pytest.param(str(uuid4()), id="unknown uuid"),
        pytest.param(to_global_id("CooperationRequest", uuid4()), id="unknown global id"),
        pytest.param(to_global_id("Case", uuid4()), id="id of a case"),
        pytest.param("not-an-id", id="garbage"),
    ],
)
def test_export_refuses_ids_that_name_no_request(exported: Exported, request_id: str) -> None:
    result = exported.home.run("receipts", "export", request_id)
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.startswith("error: "), result.stderr
    assert request_id in result.stderr or "cooperation request" in result.stderr


# verify: every kind of tampering names the first bad receipt


def edit_event(document: Document) -> None:
    document["receipts"][2]["event"]["to"] = "DECLINED"


def edit_event_and_digest(document: Document) -> None:
    receipt = document["receipts"][2]
    receipt["event"]["to"] = "DECLINED"
    receipt["digest"] = receipt_digest(receipt["event"], receipt["prev_digest"])


def drop_one(document: Document) -> None:
    del document["receipts"][3]


def drop_first(document: Document) -> None:
    del document["receipts"][0]


def reorder_two(document: Document) -> None:
    receipts = document["receipts"]
    receipts[2], receipts[3] = receipts[3], receipts[2]


def corrupt_signature(document: Document) -> None:
    receipt = document["receipts"][4]
    signature = receipt["signature"]
    receipt["signature"] = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]


def edit_key_id(document: Document) -> None:
    document["receipts"][5]["key_id"] = "0000000000000000"


def malformed(document: Document) -> None:
    del document["receipts"][6]["digest"]


Tamper = Callable[[Document], None]
CASES: list[Any] = [
    pytest.param(edit_event, "3 of 7 (event 3, ACKNOWLEDGE)", "digest does not match", id="edit"),
    pytest.param(
        edit_event_and_digest,
        "3 of 7 (event 3, ACKNOWLEDGE)",
        "signature does not verify",
        id="edit+rehash",
    ),
    pytest.param(drop_one, "4 of 6 (event 5, MESSAGE)", "prev_digest", id="drop"),
    pytest.param(drop_first, "1 of 6 (event 2, SUBMIT)", "genesis", id="drop-first"),
    pytest.param(reorder_two, "3 of 7 (event 4, ACCEPT)", "prev_digest", id="reorder"),
    pytest.param(corrupt_signature, "5 of 7 (event 5, MESSAGE)", "signature", id="signature"),
    pytest.param(edit_key_id, "6 of 7 (event 6, FULFIL)", "unknown key", id="key-id"),
    pytest.param(malformed, "7 of 7 (event 7, CLOSE)", "malformed", id="malformed"),
]


@pytest.mark.parametrize(("tamper", "label", "reason"), CASES)
def test_verify_names_the_first_bad_receipt(
    exported: Exported, tmp_path: Path, tamper: Tamper, label: str, reason: str
) -> None:
    document = copy.deepcopy(exported.document)
    tamper(document)
    result = offline(tmp_path, "receipts", "verify", str(write(tmp_path / "bad.json", document)))
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert f"receipt {label} is bad" in result.stderr, result.stderr
    assert reason in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("position", "label", "reason"),
    [
        pytest.param(1, "2 of 7 (event 2, SUBMIT)", "prev_digest", id="second"),
        pytest.param(0, "1 of 7 (event 1, CREATE)", "names request", id="first"),
    ],
)
def test_verify_refuses_a_receipt_of_another_request(
    exported: Exported, tmp_path: Path, position: int, label: str, reason: str
) -> None:
    document = copy.deepcopy(exported.document)
    document["receipts"][position] = copy.deepcopy(exported.other_document["receipts"][position])
    result = offline(tmp_path, "receipts", "verify", str(write(tmp_path / "bad.json", document)))
    assert result.returncode == 1, result.stdout
    assert f"receipt {label} is bad" in result.stderr, result.stderr
    assert reason in result.stderr, result.stderr


def test_verify_refuses_another_requests_whole_chain(exported: Exported, tmp_path: Path) -> None:
    """A genuine chain under the wrong request id: every link verifies but names B, not A."""
    document = copy.deepcopy(exported.other_document)
    document["request"] = exported.document["request"]
    result = offline(tmp_path, "receipts", "verify", str(write(tmp_path / "bad.json", document)))
    assert result.returncode == 1, result.stdout
    assert "receipt 1 of 3 (event 1, CREATE) is bad" in result.stderr, result.stderr
    assert str(exported.other) in result.stderr


# verify: keys fetched separately


def forged(document: Document, signer: ReceiptSigner, skip: int | None = None) -> Document:
    """The chain re-signed by someone else's key (optionally skipping an event number)."""
    forged_receipts = []
    prev = None
    for index, receipt in enumerate(document["receipts"]):
        event = copy.deepcopy(receipt["event"])
        if skip is not None and index >= skip:
            event["number"] += 1
        issued = issue_receipt(event, prev, signer)
        forged_receipts.append(issued.to_dict())
        prev = issued.digest
    return {**document, "receipts": forged_receipts, "keys": {"keys": [signer.public_jwk()]}}


def test_verify_with_the_published_keys(exported: Exported, tmp_path: Path) -> None:
    genuine = write(tmp_path / "genuine.json", exported.document)
    ok = offline(
        tmp_path, "receipts", "verify", str(genuine), "--keys", str(exported.published_keys)
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("verified 7 receipts"), ok.stdout
    assert str(exported.published_keys) in ok.stdout

    stranger = ReceiptSigner.generate()
    stranger_keys = write(tmp_path / "stranger.json", {"keys": [stranger.public_jwk()]})
    wrong = offline(tmp_path, "receipts", "verify", str(genuine), "--keys", str(stranger_keys))
    assert wrong.returncode == 1
    assert "receipt 1 of 7 (event 1, CREATE) is bad" in wrong.stderr, wrong.stderr
    assert "unknown key" in wrong.stderr


def test_a_re_signed_chain_passes_only_with_its_own_keys(
    exported: Exported, tmp_path: Path
) -> None:
    """Why --keys exists: a forger can ship a matching JWKS in the file, not the hub's."""
    stranger = ReceiptSigner.generate()
    path = write(tmp_path / "forged.json", forged(exported.document, stranger))
    self_consistent = offline(tmp_path, "receipts", "verify", str(path))
    assert self_consistent.returncode == 0, self_consistent.stderr
    assert stranger.key_id in self_consistent.stdout

    against_hub = offline(
        tmp_path, "receipts", "verify", str(path), "--keys", str(exported.published_keys)
    )
    assert against_hub.returncode == 1
    assert "receipt 1 of 7 (event 1, CREATE) is bad" in against_hub.stderr

    gap = write(tmp_path / "gap.json", forged(exported.document, stranger, skip=3))
    numbered = offline(tmp_path, "receipts", "verify", str(gap))
    assert numbered.returncode == 1
    assert "receipt 4 of 7 (event 5, ACCEPT) is bad" in numbered.stderr, numbered.stderr
    assert "number 4 is due" in numbered.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("{not json", "is not JSON", id="not-json"),
        pytest.param("[]", "not a JSON object", id="array"),
        pytest.param('{"format": "other/1"}', "casehub-receipts/1", id="format"),
        pytest.param(None, "no receipts", id="empty"),
        pytest.param("missing", "cannot read", id="missing-file"),
    ],
)
def test_verify_refuses_files_that_are_not_exports(
    exported: Exported, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "input.json"
    if content is None:
        write(path, {**exported.document, "receipts": []})
    elif content != "missing":
        path.write_text(content, encoding="utf-8")
    result = offline(tmp_path, "receipts", "verify", str(path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: "), result.stderr
    assert message in result.stderr, result.stderr
