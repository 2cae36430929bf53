"""The federation wire protocol's rules as tables (casehub.domain.federation: envelope and
header shapes, time window, payload types, acknowledgements) and its cryptography
(casehub.crypto.federation_envelopes: seal, sign, verify, open, acknowledge)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import rfc8785

from casehub.crypto.federation_envelopes import (
    SUITE,
    open_envelope,
    seal_envelope,
    sign_ack,
    verify_ack,
    verify_envelope,
)
from casehub.crypto.hub_identity import HubIdentity
from casehub.domain.federation.acks import AckInvalid, ack_bytes, ack_signing_input, parse_ack
from casehub.domain.federation.directory import DIRECTORY
from casehub.domain.federation.envelopes import (
    ENVELOPE_MAX_BYTES,
    PROTECTED_MAX_CHARS,
    SEQUENCE_MAX,
    STATUS,
    EnvelopeRefused,
    Header,
    RefusalCode,
    envelope_bytes,
    format_moment,
    hpke_info,
    parse_envelope,
    parse_moment,
    protect,
    signing_input,
    within_window,
)
from casehub.domain.federation.payloads import PAYLOAD_CHECKS, PING, check_payload
from casehub.domain.requests.receipts import b64url_encode

SENT = datetime(2026, 12, 5, 10, 0, 0, 123000, tzinfo=UTC)
HEADER: dict[str, Any] = {
    "sender": "0192f0a0-0000-7000-8000-000000000001",
    "recipient": "0192f0a0-0000-7000-8000-000000000002",
    "id": "0192f0a0-0000-7000-8000-0000000000aa",
    "type": "federation.ping",
    "conversation": "5f0c6a4e-1111-4222-8333-444455556666",
    "sequence": 1,
    "sentAt": "2026-12-05T10:00:00.123Z",
}
SEALED = b64url_encode(bytes(1200))
SIGNATURE = "sig"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _body(**members: object) -> bytes:
    envelope: dict[str, object] = {
        "v": "casehub-federation/1",
        "protected": _b64(rfc8785.dumps(HEADER)),
        "sealed": SEALED,
        "signature": SIGNATURE,
    }
    envelope.update(members)
    return json.dumps({k: v for k, v in envelope.items() if v is not None}).encode()


def _with_header(**members: object) -> bytes:
    header = {**HEADER, **members}
    kept = {k: v for k, v in header.items() if v != "-"}
    # JCS for these ASCII members, and able to write what JCS refuses (integers past 2**53).
    return _body(protected=_b64(json.dumps(kept, sort_keys=True, separators=(",", ":")).encode()))


REFUSED: list[tuple[str, bytes, RefusalCode]] = [
    ("over the size bound", b" " * (ENVELOPE_MAX_BYTES + 1), RefusalCode.TOO_LARGE),
    ("not JSON", b"{not json", RefusalCode.MALFORMED),
    ("truncated", _body()[:-7], RefusalCode.MALFORMED),
    ("not UTF-8", b'{"v": "\xff"}', RefusalCode.MALFORMED),
    ("UTF-16", _body().decode().encode("utf-16"), RefusalCode.MALFORMED),
    ("a byte order mark", b"\xef\xbb\xbf" + _body(), RefusalCode.MALFORMED),
    ("an array", b"[]", RefusalCode.MALFORMED),
    ("no version", _body(v=None), RefusalCode.MALFORMED),
    ("a version that is no string", _body(v=1), RefusalCode.MALFORMED),
    ("another version", _body(v="casehub-federation/2"), RefusalCode.UNSUPPORTED_VERSION),
    ("an unknown member", _body(extra="x"), RefusalCode.MALFORMED),
    ("a missing member", _body(signature=None), RefusalCode.MALFORMED),
    ("a member that is no string", _body(sealed=7), RefusalCode.MALFORMED),
    (
        "a duplicate member",
        b'{"v":"casehub-federation/1","v":"casehub-federation/1"}',
        RefusalCode.MALFORMED,
    ),
    ("protected not base64url", _body(protected="a+b/"), RefusalCode.MALFORMED),
    ("protected padded", _body(protected=_b64(b"{}") + "=="), RefusalCode.MALFORMED),
    ("protected too long", _body(protected="A" * (PROTECTED_MAX_CHARS + 4)), RefusalCode.MALFORMED),
    ("sealed too short", _body(sealed=_b64(bytes(100))), RefusalCode.MALFORMED),
    ("sealed not base64url", _body(sealed="!" * 2000), RefusalCode.MALFORMED),
    ("an empty signature", _body(signature=""), RefusalCode.MALFORMED),
    ("a long signature", _body(signature="A" * 6001), RefusalCode.MALFORMED),
    ("a header that is no JSON", _body(protected=_b64(b"{")), RefusalCode.MALFORMED),
    ("a header that is an array", _body(protected=_b64(b"[]")), RefusalCode.MALFORMED),
    (
        "a header not canonical (spaces)",
        _body(protected=_b64(json.dumps(HEADER, sort_keys=True).encode())),
        RefusalCode.MALFORMED,
    ),
    (
        "a header not canonical (order)",
        _body(protected=_b64(json.dumps(HEADER, separators=(",", ":")).encode())),
        RefusalCode.MALFORMED,
    ),
    ("a header member missing", _with_header(conversation="-"), RefusalCode.MALFORMED),
    ("an unknown header member", _with_header(extra=1), RefusalCode.MALFORMED),
    ("an uppercase UUID", _with_header(sender=HEADER["sender"].upper()), RefusalCode.MALFORMED),
    ("an id not UUIDv7", _with_header(id=HEADER["conversation"]), RefusalCode.MALFORMED),
    ("sequence 0", _with_header(sequence=0), RefusalCode.MALFORMED),
    ("sequence true", _with_header(sequence=True), RefusalCode.MALFORMED),
    ("sequence past 2**53 - 1", _with_header(sequence=SEQUENCE_MAX + 1), RefusalCode.MALFORMED),
    ("sequence as text", _with_header(sequence="1"), RefusalCode.MALFORMED),
    ("sentAt in seconds", _with_header(sentAt="2026-12-05T10:00:00Z"), RefusalCode.MALFORMED),
    (
        "sentAt with an offset",
        _with_header(sentAt="2026-12-05T10:00:00.000+00:00"),
        RefusalCode.MALFORMED,
    ),
    (
        "sentAt that never was",
        _with_header(sentAt="2026-02-30T10:00:00.000Z"),
        RefusalCode.MALFORMED,
    ),
    ("a type in capitals", _with_header(type="Federation.Ping"), RefusalCode.MALFORMED),
    ("a type with no area", _with_header(type="ping"), RefusalCode.MALFORMED),
    ("a type too long", _with_header(type="federation." + "p" * 60), RefusalCode.MALFORMED),
    ("NaN in the header", _body(protected=_b64(b'{"sequence":NaN}')), RefusalCode.MALFORMED),
]


@pytest.mark.parametrize(("case", "body", "code"), REFUSED, ids=[case for case, *_ in REFUSED])
def test_malformed_envelopes_are_refused_with_their_code(
    case: str, body: bytes, code: RefusalCode
) -> None:
    with pytest.raises(EnvelopeRefused) as refused:
        parse_envelope(body)
    assert refused.value.code is code, (case, refused.value.message)


def test_a_well_formed_envelope_parses_to_its_header() -> None:
    envelope = parse_envelope(_body())
    assert envelope.header == Header(
        sender=UUID(HEADER["sender"]),
        recipient=UUID(HEADER["recipient"]),
        id=UUID(HEADER["id"]),
        type="federation.ping",
        conversation=UUID(HEADER["conversation"]),
        sequence=1,
        sent_at=SENT,
    )
    assert envelope.header.canonical() == envelope.header_bytes == rfc8785.dumps(HEADER)
    assert protect(envelope.header) == envelope.protected
    assert parse_envelope(envelope.to_bytes()) == envelope


def test_the_signing_input_and_hpke_info_are_these_bytes() -> None:
    digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # sha256("abc")
    assert signing_input("PROT", "abc") == b"casehub-federation/1\nPROT\nsha256:" + digest.encode()
    assert hpke_info(b"{}") == b"casehub-federation/1\x00{}"
    assert envelope_bytes("p", "s", "g") == (
        b'{"protected":"p","sealed":"s","signature":"g","v":"casehub-federation/1"}'
    )


MOMENTS = [
    ("2026-12-05T10:00:00.123Z", SENT),
    ("2026-12-05T10:00:00.000Z", SENT.replace(microsecond=0)),
    ("0999-01-01T00:00:00.000Z", datetime(999, 1, 1, tzinfo=UTC)),
    ("2026-12-05T10:00:00.1234Z", None),
    ("2026-12-05 10:00:00.123Z", None),
    ("2026-12-05T24:00:00.000Z", None),
    ("\uff12026-12-05T10:00:00.000Z", None),  # a fullwidth digit
    (None, None),
]


@pytest.mark.parametrize(("text", "moment"), MOMENTS)
def test_wire_instants_are_utc_milliseconds(text: object, moment: datetime | None) -> None:
    assert parse_moment(text) == moment
    if moment is not None:
        assert format_moment(moment) == text


def test_format_moment_converts_to_utc_and_drops_microseconds() -> None:
    paris = datetime(2026, 12, 5, 11, 0, 0, 123999, tzinfo=UTC).astimezone(
        datetime.now().astimezone().tzinfo
    )
    assert format_moment(paris) == "2026-12-05T11:00:00.123Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_moment(datetime(2026, 12, 5))  # naive


WINDOW = timedelta(seconds=300)
TIMES = [
    ("the same moment", timedelta(0), True),
    ("the window's edge, late", WINDOW, True),
    ("the window's edge, early", -WINDOW, True),
    ("a millisecond past, late", WINDOW + timedelta(milliseconds=1), False),
    ("a millisecond past, early", -WINDOW - timedelta(milliseconds=1), False),
    ("a day late", timedelta(days=1), False),
]


@pytest.mark.parametrize(("case", "now_minus_sent", "accepted"), TIMES)
def test_the_time_window_is_symmetric(case: str, now_minus_sent: timedelta, accepted: bool) -> None:
    assert within_window(SENT, SENT + now_minus_sent, WINDOW) is accepted, case


def test_every_refusal_code_has_a_status() -> None:
    assert set(STATUS) == set(RefusalCode)
    assert {code: STATUS[code] for code in (RefusalCode.TOO_LARGE, RefusalCode.REPLAYED)} == {
        RefusalCode.TOO_LARGE: 413,
        RefusalCode.REPLAYED: 409,
    }


PAYLOADS: list[tuple[str, str, bytes, RefusalCode | None]] = [
    ("a ping", PING, b'{"note":"hello"}', None),
    ("a ping's longest note", PING, json.dumps({"note": "n" * 200}).encode(), None),
    ("a note too long", PING, json.dumps({"note": "n" * 201}).encode(), RefusalCode.MALFORMED),
    ("a note that is no string", PING, b'{"note":1}', RefusalCode.MALFORMED),
    ("an extra member", PING, b'{"note":"a","x":1}', RefusalCode.MALFORMED),
    ("an array", PING, b"[]", RefusalCode.MALFORMED),
    ("not JSON", PING, b"{", RefusalCode.MALFORMED),
    ("a duplicate member", PING, b'{"note":"a","note":"b"}', RefusalCode.MALFORMED),
    ("too large", PING, b" " * (512 * 1024 + 1), RefusalCode.TOO_LARGE),
    ("an unknown type", "federation.pong", b'{"note":"a"}', RefusalCode.UNKNOWN_TYPE),
    # every malformed directory is in tests/unit/test_federation_directory.py
    ("a directory", DIRECTORY, b'{"agencies":[],"issuedAt":"2026-12-05T10:00:00.000Z"}', None),
    ("a directory without issuedAt", DIRECTORY, b'{"agencies":[]}', RefusalCode.MALFORMED),
]


@pytest.mark.parametrize(("case", "kind", "raw", "code"), PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_payloads_are_checked_by_their_type(
    case: str, kind: str, raw: bytes, code: RefusalCode | None
) -> None:
    if code is None:
        assert check_payload(kind, raw) == json.loads(raw)
        return
    with pytest.raises(EnvelopeRefused) as refused:
        check_payload(kind, raw)
    assert refused.value.code is code, case


def test_every_known_type_has_a_row_in_the_payload_table() -> None:
    assert {kind for _case, kind, _raw, code in PAYLOADS if code is None} == set(PAYLOAD_CHECKS)


# ---- cryptography ----

MY = HubIdentity.generate("MY")
FR = HubIdentity.generate("FR")
XX = HubIdentity.generate("XX")
CONVERSATION = UUID(HEADER["conversation"])


def _sealed(payload: dict[str, object] | None = None, **header: object) -> bytes:
    members: dict[str, object] = {
        "type": "federation.ping",
        "conversation": CONVERSATION,
        "sequence": 1,
        **header,
    }
    return seal_envelope(MY, FR.public, payload=payload or {"note": "hello"}, **members)  # type: ignore[arg-type]


def _opened(body: bytes) -> dict[str, object]:
    envelope = parse_envelope(body)
    verify_envelope(MY.public, envelope)
    return check_payload(envelope.header.type, open_envelope(FR, envelope))


def test_a_sealed_envelope_verifies_and_opens_at_its_recipient() -> None:
    body = _sealed({"note": "hello"}, sent_at=SENT)
    header = parse_envelope(body).header
    assert (header.sender, header.recipient, header.sent_at) == (MY.hub_id, FR.hub_id, SENT)
    assert header.id.version == 7
    assert _opened(body) == {"note": "hello"}
    assert body == rfc8785.dumps(json.loads(body))  # a sender writes canonical JSON


def test_sealing_is_randomized_and_the_payload_is_not_in_clear() -> None:
    first, second = _sealed({"note": "marker-7431"}), _sealed({"note": "marker-7431"})
    assert first != second
    assert b"marker-7431" not in first


def _resign(body: bytes, sender: HubIdentity, **parts: str) -> bytes:
    """The envelope with parts replaced, signed again by `sender` over the new parts."""
    members = {**json.loads(body), **parts}
    signature = sender.sign(signing_input(members["protected"], members["sealed"]))
    return envelope_bytes(members["protected"], members["sealed"], signature)


def _flip(text: str, at: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    raw[at] ^= 1
    return _b64(bytes(raw))


def _edit_header(body: bytes) -> str:
    header = json.loads(parse_envelope(body).header_bytes)
    header["sequence"] = 2
    return _b64(rfc8785.dumps(header))


def _swap(body: bytes, **parts: str) -> bytes:
    """The envelope with parts replaced and its signature kept."""
    members = {**json.loads(body), **parts}
    return envelope_bytes(members["protected"], members["sealed"], members["signature"])


def _part(body: bytes, name: str) -> str:
    text: str = json.loads(body)[name]
    return text


def _halves(body: bytes, ed25519_from: HubIdentity, mldsa_from: HubIdentity) -> str:
    message = signing_input(_part(body, "protected"), _part(body, "sealed"))
    ed25519 = ed25519_from.sign(message).split(".")[0]
    return f"{ed25519}.{mldsa_from.sign(message).split('.')[1]}"


FORGERIES: list[tuple[str, Callable[[bytes], bytes], RefusalCode]] = [
    ("signed by another hub", lambda body: _resign(body, XX), RefusalCode.BAD_SIGNATURE),
    (
        "payload edited",
        lambda body: _swap(body, sealed=_flip(_part(body, "sealed"), 1125)),
        RefusalCode.BAD_SIGNATURE,
    ),
    (
        "header edited",
        lambda body: _swap(body, protected=_edit_header(body)),
        RefusalCode.BAD_SIGNATURE,
    ),
    (
        "the ML-DSA half of the signature by another hub",
        lambda body: _swap(body, signature=_halves(body, MY, XX)),
        RefusalCode.BAD_SIGNATURE,
    ),
    (
        "the Ed25519 half of the signature by another hub",
        lambda body: _swap(body, signature=_halves(body, XX, MY)),
        RefusalCode.BAD_SIGNATURE,
    ),
    (
        "only the Ed25519 half of the signature",
        lambda body: _swap(body, signature=_part(body, "signature").split(".")[0]),
        RefusalCode.BAD_SIGNATURE,
    ),
    (
        "payload edited by the sender hub itself",
        lambda body: _resign(body, MY, sealed=_flip(_part(body, "sealed"), 1125)),
        RefusalCode.UNREADABLE,
    ),
    (
        "header edited by the sender hub itself (the payload is bound to its header)",
        lambda body: _resign(body, MY, protected=_edit_header(body)),
        RefusalCode.UNREADABLE,
    ),
    (
        "sealed to another hub",
        lambda body: seal_envelope(
            MY,
            XX.public,
            type="federation.ping",
            conversation=CONVERSATION,
            sequence=1,
            payload={"note": "x"},
        ),
        RefusalCode.UNREADABLE,
    ),
]


@pytest.mark.parametrize(("case", "forge", "code"), FORGERIES, ids=[f[0] for f in FORGERIES])
def test_forged_envelopes_do_not_verify_or_do_not_open(
    case: str, forge: Callable[[bytes], bytes], code: RefusalCode
) -> None:
    with pytest.raises(EnvelopeRefused) as refused:
        _opened(forge(_sealed()))
    assert refused.value.code is code, case


def test_hpke_suite_is_the_documented_one() -> None:
    body = json.loads(_sealed())
    enc_and_ct = base64.urlsafe_b64decode(body["sealed"] + "=" * (-len(body["sealed"]) % 4))
    # enc (ML-KEM-768 ciphertext 1088 + X25519 32) || AES-256-GCM(JCS payload) with its tag
    assert len(enc_and_ct) == 1120 + len(b'{"note":"hello"}') + 16
    assert SUITE is not None


def test_seal_envelope_refuses_a_header_out_of_shape() -> None:
    with pytest.raises(ValueError, match="'type'"):
        _sealed(type="Ping")
    with pytest.raises(ValueError, match="'sequence'"):
        _sealed(sequence=0)


RECEIVED = datetime(2026, 12, 5, 10, 0, 1, 500000, tzinfo=UTC)


def test_an_ack_names_the_envelope_and_verifies_at_the_sender() -> None:
    body = _sealed()
    header = parse_envelope(body).header
    ack = sign_ack(FR, header, RECEIVED, body)
    checked = verify_ack(FR.public, ack, body)
    assert (checked.id, checked.sender, checked.recipient) == (header.id, MY.hub_id, FR.hub_id)
    assert checked.received_at == RECEIVED.replace(microsecond=500000)
    assert checked.envelope.startswith("sha256:")


def _ack_variant(body: bytes, ack: bytes, what: str) -> tuple[bytes, bytes]:
    """(ack, envelope) changed as `what` says."""
    if what == "signed by another hub":
        return sign_ack(XX, parse_envelope(body).header, RECEIVED, body), body
    if what == "of another envelope":
        return ack, _sealed()
    if what == "an edited ack":
        text, signature, _ack = parse_ack(ack)
        return ack_bytes(_flip(text, 3), signature), body
    if what == "not JSON":
        return b"{", body
    if what == "an extra member":
        return json.dumps({**json.loads(ack), "x": 1}).encode(), body
    if what == "of an envelope that is no envelope":
        return ack, b"{}"
    raise AssertionError(what)


ACK_FORGERIES = [
    "signed by another hub",
    "of another envelope",
    "an edited ack",
    "not JSON",
    "an extra member",
    "of an envelope that is no envelope",
]


@pytest.mark.parametrize("what", ACK_FORGERIES)
def test_a_forged_or_foreign_ack_is_refused(what: str) -> None:
    body = _sealed()
    ack = sign_ack(FR, parse_envelope(body).header, RECEIVED, body)
    forged, envelope = _ack_variant(body, ack, what)
    with pytest.raises(AckInvalid):
        verify_ack(FR.public, forged, envelope)


def test_the_ack_signing_input_is_these_bytes() -> None:
    assert ack_signing_input("QUJD") == b"casehub-federation/1 ack\nQUJD"
