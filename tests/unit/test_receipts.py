"""Receipt chains: canonical JSON, digests, and detection of every kind of tampering."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType
from uuid import UUID

import pytest

from casehub.domain.requests.receipts import (
    GENESIS,
    MAX_SAFE_INTEGER,
    Receipt,
    VerificationResult,
    b64url_decode,
    b64url_encode,
    canonical_event,
    event_timestamp,
    issue_receipt,
    receipt_digest,
    verify_chain,
)

REQUEST = "0192a000-0000-7000-8000-000000000001"
OTHER_REQUEST = "0192a000-0000-7000-8000-000000000002"


class FakeSigner:
    """A stdlib stand-in for an Ed25519 key: a 64-byte HMAC tag over the digest bytes."""

    def __init__(self, key_id: str, secret: bytes) -> None:
        self._key_id = key_id
        self.secret = secret

    @property
    def key_id(self) -> str:
        return self._key_id

    def tag(self, digest: bytes) -> bytes:
        return hmac.new(self.secret, digest, hashlib.sha512).digest()

    def sign(self, digest_hex: str) -> str:
        return b64url_encode(self.tag(bytes.fromhex(digest_hex)))


HUB = FakeSigner("a1b2c3d4e5f60718", b"hub secret")
ROGUE = FakeSigner("ffffffffffffffff", b"rogue secret")


def verifier(*signers: FakeSigner) -> Callable[[str, bytes, bytes], bool]:
    known = {s.key_id: s for s in signers}

    def verify(key_id: str, digest: bytes, signature: bytes) -> bool:
        signer = known.get(key_id)
        return signer is not None and hmac.compare_digest(signer.tag(digest), signature)

    return verify


def events(request: str = REQUEST, n: int = 5) -> list[dict[str, object]]:
    steps = ["submit", "acknowledge", "accept", "fulfil", "close", "extra", "more"]
    return [
        {
            "request_id": request,
            "seq": i + 1,
            "action": steps[i],
            "actor": "agency-my-police",
            "at": f"2025-03-0{i + 1}T09:00:00.000000Z",
        }
        for i in range(n)
    ]


def chain(request: str = REQUEST, signer: FakeSigner = HUB, n: int = 5) -> list[Receipt]:
    receipts: list[Receipt] = []
    prev = None
    for event in events(request, n):
        receipt = issue_receipt(event, prev, signer)
        receipts.append(receipt)
        prev = receipt.digest
    return receipts


VERIFY = verifier(HUB)


# --- canonical_event ---------------------------------------------------------------------------


def test_canonical_event_is_sorted_compact_ascii():
    event = {"b": [1, True, None, "x"], "a": "é€😀", "c": {"z": 0, "y": False}}
    assert canonical_event(event) == (
        b'{"a":"\\u00e9\\u20ac\\ud83d\\ude00","b":[1,true,null,"x"],"c":{"y":false,"z":0}}'
    )


def test_canonical_event_is_key_order_independent():
    a = {"x": 1, "y": {"p": 1, "q": 2}}
    b = {"y": {"q": 2, "p": 1}, "x": 1}
    assert canonical_event(a) == canonical_event(b)


def test_canonical_event_accepts_any_top_level_mapping():
    assert canonical_event(MappingProxyType({"a": 1})) == b'{"a":1}'


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"a": 1.0}, id="float"),
        pytest.param({"a": 1.5}, id="fraction"),
        pytest.param({"a": float("nan")}, id="nan"),
        pytest.param({"a": float("inf")}, id="infinity"),
        pytest.param({"a": datetime(2025, 1, 1, tzinfo=UTC)}, id="datetime"),
        pytest.param({"a": Decimal("1")}, id="decimal"),
        pytest.param({"a": UUID(int=1)}, id="uuid"),
        pytest.param({"a": b"bytes"}, id="bytes"),
        pytest.param({"a": (1, 2)}, id="tuple"),
        pytest.param({"a": {1, 2}}, id="set"),
        pytest.param({"a": [1, [2, 0.5]]}, id="nested_float_in_list"),
        pytest.param({"a": {"b": {"c": object()}}}, id="nested_object"),
        pytest.param({"a": MappingProxyType({"b": 1})}, id="nested_mapping_not_dict"),
        pytest.param({1: "a"}, id="int_key"),
        pytest.param({"a": {None: 1}}, id="nested_none_key"),
        pytest.param({("a",): 1}, id="tuple_key"),
    ],
)
def test_canonical_event_refuses_non_json_types(event):
    with pytest.raises(TypeError):
        canonical_event(event)


@pytest.mark.parametrize("event", [None, [("a", 1)], "a", 1])
def test_canonical_event_refuses_a_non_mapping(event):
    with pytest.raises(TypeError):
        canonical_event(event)


def test_canonical_event_refuses_int_keys_that_json_would_silently_turn_into_strings():
    with pytest.raises(TypeError):
        receipt_digest({1: "x"}, None)  # type: ignore[dict-item]
    assert receipt_digest({"1": "x"}, None)


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({"a": MAX_SAFE_INTEGER + 1}, id="int_above_2_53"),
        pytest.param({"a": -MAX_SAFE_INTEGER - 1}, id="int_below_minus_2_53"),
        pytest.param({"a": ["\ud800"]}, id="lone_surrogate_value"),
        pytest.param({"\udfff": 1}, id="lone_surrogate_key"),
    ],
)
def test_canonical_event_refuses_values_other_json_tools_cannot_carry(event):
    with pytest.raises(ValueError):  # noqa: PT011
        canonical_event(event)


def test_canonical_event_refuses_deep_nesting_and_cycles():
    deep: dict[str, object] = {}
    node = deep
    for _ in range(100):
        child: dict[str, object] = {}
        node["n"] = child
        node = child
    with pytest.raises(ValueError, match="too deeply"):
        canonical_event(deep)
    cycle: dict[str, object] = {}
    cycle["self"] = cycle
    with pytest.raises(ValueError, match="too deeply"):
        canonical_event(cycle)


def test_canonical_event_accepts_the_safe_integer_bounds_and_bools():
    body = canonical_event({"hi": MAX_SAFE_INTEGER, "lo": -MAX_SAFE_INTEGER, "t": True})
    assert body == b'{"hi":9007199254740991,"lo":-9007199254740991,"t":true}'


def test_error_messages_name_the_path_not_the_values():
    with pytest.raises(TypeError) as info:
        canonical_event({"outer": {"secret": 0.25}})
    assert "event.outer.secret" in str(info.value)
    assert "0.25" not in str(info.value)


# --- receipt_digest ----------------------------------------------------------------------------


def test_genesis_is_64_zeros():
    assert GENESIS == "0" * 64


def test_receipt_digest_matches_documented_construction():
    event = {"b": 2, "a": "é"}
    prev = "ab" * 32
    body = '{"event":{"a":"\\u00e9","b":2},"prev":"' + prev + '"}'
    assert receipt_digest(event, prev) == hashlib.sha256(body.encode("ascii")).hexdigest()


def test_receipt_digest_of_the_first_receipt_uses_genesis():
    event = {"a": 1}
    assert receipt_digest(event, None) == receipt_digest(event, GENESIS)
    body = '{"event":{"a":1},"prev":"' + GENESIS + '"}'
    assert receipt_digest(event, None) == hashlib.sha256(body.encode()).hexdigest()


def test_receipt_digest_is_deterministic_lowercase_hex():
    a = {"x": 1, "y": [1, 2], "z": {"q": None}}
    b = {"z": {"q": None}, "y": [1, 2], "x": 1}
    digest = receipt_digest(a, None)
    assert digest == receipt_digest(a, None) == receipt_digest(b, None)
    assert len(digest) == 64
    assert set(digest) <= set("0123456789abcdef")


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (({"a": 1}, None), ({"a": 2}, None)),
        (({"a": 1}, None), ({"a": "1"}, None)),
        (({"a": 1}, None), ({"a": True}, None)),
        (({"a": 0}, None), ({"a": False}, None)),
        (({"a": None}, None), ({}, None)),
        (({"a": 1}, None), ({"b": 1}, None)),
        (({"a": [1, 2]}, None), ({"a": [2, 1]}, None)),
        (({"a": 1}, None), ({"a": 1}, "1" + GENESIS[1:])),
        (({"a": 1}, "ab" * 32), ({"a": 1}, "ba" * 32)),
    ],
)
def test_receipt_digest_changes_with_event_or_prev(left, right):
    assert receipt_digest(*left) != receipt_digest(*right)


@pytest.mark.parametrize("prev", ["", "0" * 63, "0" * 65, "AB" * 32, "g" * 64, " " + "0" * 63])
def test_receipt_digest_refuses_a_malformed_prev(prev):
    with pytest.raises(ValueError, match="64 lowercase hex"):
        receipt_digest({"a": 1}, prev)


# --- event_timestamp ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2025, 3, 1, 9, 0, tzinfo=UTC), "2025-03-01T09:00:00.000000Z"),
        (datetime(2025, 3, 1, 9, 0, 0, 5, tzinfo=UTC), "2025-03-01T09:00:00.000005Z"),
        (
            datetime(2025, 3, 1, 1, 30, tzinfo=timezone(timedelta(hours=8))),
            "2025-02-28T17:30:00.000000Z",
        ),
    ],
)
def test_event_timestamp_is_utc_with_z(moment, text):
    assert event_timestamp(moment) == text


def test_event_timestamp_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="timezone-aware"):
        event_timestamp(datetime(2025, 3, 1, 9, 0))


# --- base64url ---------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"\x00", b"\xff\xfe", b"abc", bytes(range(64))])
def test_b64url_round_trips_without_padding(raw):
    text = b64url_encode(raw)
    assert "=" not in text
    assert "+" not in text
    assert "/" not in text
    assert b64url_decode(text) == raw


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("AA==", id="padded"),
        pytest.param("A", id="impossible_length"),
        pytest.param("AB", id="non_canonical_trailing_bits"),
        pytest.param("+/8", id="standard_alphabet"),
        pytest.param("AA AA", id="whitespace"),
        pytest.param("AAé", id="non_ascii"),
        pytest.param(None, id="not_text"),
    ],
)
def test_b64url_decode_is_strict(text):
    assert b64url_decode(text) is None


# --- Receipt -----------------------------------------------------------------------------------


def test_issue_receipt_chains_and_signs():
    receipts = chain()
    assert receipts[0].prev_digest == GENESIS
    for before, after in itertools.pairwise(receipts):
        assert after.prev_digest == before.digest
    for receipt, event in zip(receipts, events(), strict=True):
        assert receipt.event == event
        assert receipt.digest == receipt_digest(event, receipt.prev_digest)
        assert receipt.key_id == HUB.key_id
        assert b64url_decode(receipt.signature) == HUB.tag(bytes.fromhex(receipt.digest))


def test_issue_receipt_keeps_its_own_copy_of_the_event():
    event: dict[str, object] = {"a": [1, 2], "b": {"c": "d"}}
    receipt = issue_receipt(event, None, HUB)
    event["a"].append(3)  # type: ignore[attr-defined]
    event["b"]["c"] = "changed"  # type: ignore[index]
    assert receipt.event == {"a": [1, 2], "b": {"c": "d"}}
    assert verify_chain([receipt], VERIFY).ok


def test_issue_receipt_refuses_a_non_canonical_event():
    with pytest.raises(TypeError):
        issue_receipt({"amount": 1.5}, None, HUB)


def test_receipt_round_trips_through_json():
    receipts = chain()
    text = json.dumps([r.to_dict() for r in receipts])
    again = [Receipt.from_dict(d) for d in json.loads(text)]
    assert again == receipts
    assert verify_chain(again, VERIFY).ok


def test_to_dict_has_the_documented_fields_and_is_a_copy():
    receipt = chain()[0]
    data = receipt.to_dict()
    assert set(data) == {"event", "prev_digest", "digest", "signature", "key_id"}
    data["event"]["action"] = "forged"  # type: ignore[index]
    assert receipt.event["action"] == "submit"


def test_receipts_are_frozen_and_hashable():
    receipt = chain()[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        receipt.digest = GENESIS  # type: ignore[misc]
    assert len({receipt, Receipt.from_dict(receipt.to_dict())}) == 1


def _receipt_dict(**overrides: object) -> dict[str, object]:
    return {**chain(n=1)[0].to_dict(), **overrides}


@pytest.mark.parametrize(
    "data",
    [
        pytest.param([], id="not_a_mapping"),
        pytest.param(_receipt_dict(event=None), id="event_null"),
        pytest.param(_receipt_dict(event=[1]), id="event_list"),
        pytest.param(_receipt_dict(event={1: 2}), id="event_int_key"),
        pytest.param(_receipt_dict(digest=None), id="digest_null"),
        pytest.param(_receipt_dict(prev_digest=0), id="prev_number"),
        pytest.param(_receipt_dict(signature=b"sig"), id="signature_bytes"),
        pytest.param({k: v for k, v in _receipt_dict().items() if k != "key_id"}, id="no_key_id"),
    ],
)
def test_from_dict_refuses_malformed_receipts(data):
    with pytest.raises(ValueError, match="receipt"):
        Receipt.from_dict(data)


# --- verify_chain ------------------------------------------------------------------------------


def test_an_intact_chain_verifies():
    receipts = chain()
    assert verify_chain(receipts, VERIFY) == VerificationResult(ok=True, checked=5)


def test_an_empty_chain_verifies():
    assert verify_chain([], VERIFY) == VerificationResult(ok=True, checked=0)


def test_verify_chain_passes_key_id_raw_digest_and_raw_signature():
    calls: list[tuple[str, bytes, bytes]] = []

    def record(key_id: str, digest: bytes, signature: bytes) -> bool:
        calls.append((key_id, digest, signature))
        return VERIFY(key_id, digest, signature)

    receipts = chain(n=2)
    assert verify_chain(receipts, record).ok
    assert calls == [
        (HUB.key_id, bytes.fromhex(r.digest), b64url_decode(r.signature)) for r in receipts
    ]
    assert all(len(digest) == 32 and len(sig) == 64 for _, digest, sig in calls)


def test_a_verifier_returning_a_truthy_non_bool_does_not_pass():
    assert not verify_chain(chain(n=1), lambda *_: 1).ok  # type: ignore[arg-type]


def _edit(receipts, index, **changes):
    receipts[index] = dataclasses.replace(receipts[index], **changes)
    return receipts


def _edit_event(receipts, index):
    event = {**receipts[index].event, "action": "decline"}
    return _edit(receipts, index, event=event)


def _edit_event_and_redigest(receipts, index):
    # An attacker without the key recomputes the digest; the signature no longer matches.
    event = {**receipts[index].event, "action": "decline"}
    digest = receipt_digest(event, receipts[index].prev_digest)
    return _edit(receipts, index, event=event, digest=digest)


def _resign_with(signer, keep_key_id):
    def tamper(receipts, index):
        receipt = receipts[index]
        key_id = receipt.key_id if keep_key_id else signer.key_id
        return _edit(receipts, index, signature=signer.sign(receipt.digest), key_id=key_id)

    return tamper


def _flip_signature_byte(receipts, index):
    raw = bytearray(b64url_decode(receipts[index].signature) or b"")
    raw[10] ^= 0x01
    return _edit(receipts, index, signature=b64url_encode(bytes(raw)))


def _swap(receipts, index):
    receipts[index], receipts[index + 1] = receipts[index + 1], receipts[index]
    return receipts


def _drop(receipts, index):
    del receipts[index]
    return receipts


def _duplicate(receipts, index):
    receipts.insert(index + 1, receipts[index])
    return receipts


def _foreign(position):
    def tamper(receipts, index):
        receipts[index] = chain(OTHER_REQUEST)[position]
        return receipts

    return tamper


def _append_foreign(receipts, index):
    receipts.append(chain(OTHER_REQUEST)[index])
    return receipts


TAMPERINGS = [
    # (id, tamper, index given to it, expected first_bad, fragment of the reason)
    ("edited_event", _edit_event, 2, 2, "digest does not match"),
    ("edited_first_event", _edit_event, 0, 0, "digest does not match"),
    ("edited_last_event", _edit_event, 4, 4, "digest does not match"),
    ("edited_event_redigested", _edit_event_and_redigest, 2, 2, "signature does not verify"),
    ("edited_digest", lambda r, i: _edit(r, i, digest="ab" * 32), 3, 3, "digest does not match"),
    ("edited_prev", lambda r, i: _edit(r, i, prev_digest="ab" * 32), 3, 3, "prev_digest"),
    ("event_made_non_canonical", lambda r, i: _edit(r, i, event={"a": 0.5}), 1, 1, "canonical"),
    ("flipped_signature_byte", _flip_signature_byte, 1, 1, "signature does not verify"),
    (
        "signature_of_another_receipt",
        lambda r, i: _edit(r, i, signature=r[0].signature),
        2,
        2,
        "signature does not verify",
    ),
    (
        "signature_padded",
        lambda r, i: _edit(r, i, signature=r[i].signature + "=="),
        2,
        2,
        "base64url",
    ),
    ("signature_empty", lambda r, i: _edit(r, i, signature=""), 2, 2, "signature does not verify"),
    (
        "signed_by_rogue_key_under_hub_id",
        _resign_with(ROGUE, keep_key_id=True),
        2,
        2,
        "signature does not verify",
    ),
    ("unknown_key_id", _resign_with(ROGUE, keep_key_id=False), 2, 2, "ffffffffffffffff"),
    (
        "key_id_renamed",
        lambda r, i: _edit(r, i, key_id="0000000000000000"),
        2,
        2,
        "signature does not verify",
    ),
    ("key_id_empty", lambda r, i: _edit(r, i, key_id=""), 2, 2, "no key id"),
    ("dropped_middle", _drop, 2, 2, "prev_digest"),
    ("dropped_first", _drop, 0, 0, "genesis"),
    ("reordered_neighbours", _swap, 1, 1, "prev_digest"),
    ("reordered_first_two", _swap, 0, 0, "genesis"),
    ("duplicated", _duplicate, 2, 3, "prev_digest"),
    ("foreign_receipt_in_middle", _foreign(2), 2, 2, "prev_digest"),
    ("foreign_first_receipt", _foreign(0), 0, 1, "prev_digest"),
    ("foreign_receipt_at_genesis_slot", _foreign(0), 3, 3, "prev_digest"),
    ("foreign_receipt_appended", _append_foreign, 3, 5, "prev_digest"),
]


@pytest.mark.parametrize(
    ("tamper", "index", "first_bad", "fragment"),
    [pytest.param(t, i, b, f, id=name) for name, t, i, b, f in TAMPERINGS],
)
def test_verify_chain_detects_tampering(tamper, index, first_bad, fragment):
    receipts = tamper(chain(), index)
    result = verify_chain(receipts, VERIFY)
    assert result.ok is False
    assert result.first_bad == first_bad
    assert result.checked == first_bad
    assert result.reason is not None
    assert fragment in result.reason


def test_a_whole_chain_of_another_request_verifies_so_events_must_name_their_request():
    # The chain cannot know which request it belongs to: the caller checks request_id.
    receipts = chain(OTHER_REQUEST)
    assert verify_chain(receipts, VERIFY).ok
    assert {r.event["request_id"] for r in receipts} == {OTHER_REQUEST}


def test_dropping_the_tail_is_not_visible_in_the_receipts_alone():
    # Truncation must be caught by comparing with the stored head digest or count.
    receipts = chain()
    result = verify_chain(receipts[:3], VERIFY)
    assert result.ok
    assert receipts[:3][-1].digest != receipts[-1].digest


def test_a_chain_signed_by_two_keys_verifies_when_both_are_known():
    first = issue_receipt(events()[0], None, HUB)
    second = issue_receipt(events()[1], first.digest, ROGUE)
    assert verify_chain([first, second], verifier(HUB, ROGUE)).ok
    result = verify_chain([first, second], VERIFY)
    assert (result.ok, result.first_bad) == (False, 1)
