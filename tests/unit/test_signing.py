"""Ed25519 receipt signing, JWKS verification, and signing keys in the local keyring."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import threading
from functools import partial
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from casehub.crypto import (
    KeyProvider,
    KeyringError,
    LocalKeyring,
    ReceiptSigner,
    add_signing_key_if_missing,
    create_keyring,
    key_id_for,
    verify_with_jwks,
)
from casehub.domain.requests.receipts import (
    Receipt,
    b64url_decode,
    b64url_encode,
    issue_receipt,
    receipt_digest,
    verify_chain,
)

# RFC 8032 section 7.1, test 1.
RFC_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
DIGEST_HEX = receipt_digest({"action": "submit", "request_id": "r-1"}, None)
DIGEST = bytes.fromhex(DIGEST_HEX)
AGENCY = UUID("55555555-5555-7555-8555-555555555555")
ROOT_A = base64.b64encode(bytes(range(32))).decode()


def jwks_of(*signers: ReceiptSigner) -> dict[str, object]:
    return {"keys": [s.public_jwk() for s in signers]}


def write(path, data, mode=0o600):
    path.write_text(json.dumps(data), "utf-8")
    os.chmod(path, mode)
    return path


def signing_entry(raw: bytes) -> tuple[str, str]:
    return ReceiptSigner.from_private_bytes(raw).key_id, base64.b64encode(raw).decode()


def forms(secret: bytes) -> list[str]:
    return [
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode(),
        base64.b64encode(secret).decode().rstrip("="),
        base64.urlsafe_b64encode(secret).decode(),
        b64url_encode(secret),
        repr(secret),
        repr(secret)[2:-1],
    ]


def issue(signer, n, prev=None, start=1):
    receipts = []
    for seq in range(start, start + n):
        receipt = issue_receipt({"request_id": "r-1", "seq": seq}, prev, signer)
        receipts.append(receipt)
        prev = receipt.digest
    return receipts


# --- ReceiptSigner -----------------------------------------------------------------------------


def test_signer_derives_the_rfc_8032_public_key_and_key_id():
    signer = ReceiptSigner.from_private_bytes(RFC_SECRET)
    assert signer.public_key == RFC_PUBLIC
    assert signer.key_id == hashlib.sha256(RFC_PUBLIC).hexdigest()[:16]
    assert signer.key_id == key_id_for(RFC_PUBLIC)
    assert len(signer.key_id) == 16


def test_public_jwk_is_an_rfc_8037_okp_key():
    signer = ReceiptSigner.from_private_bytes(RFC_SECRET)
    assert signer.public_jwk() == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        "kid": signer.key_id,
        "use": "sig",
        "alg": "EdDSA",
    }


def test_sign_is_unpadded_base64url_ed25519_over_the_raw_digest_bytes():
    signer = ReceiptSigner.from_private_bytes(RFC_SECRET)
    signature = signer.sign(DIGEST_HEX)
    assert len(signature) == 86
    assert "=" not in signature
    raw = b64url_decode(signature)
    assert raw is not None
    assert len(raw) == 64
    Ed25519PublicKey.from_public_bytes(RFC_PUBLIC).verify(raw, DIGEST)  # raises if wrong
    assert signer.sign(DIGEST_HEX) == signature  # Ed25519 is deterministic


@pytest.mark.parametrize("digest", ["", "ab" * 31, "ab" * 33, "AB" * 32, "zz" * 32, b"x" * 32])
def test_sign_refuses_anything_but_a_hex_sha256_digest(digest):
    with pytest.raises(ValueError, match="64 lowercase hex"):
        ReceiptSigner.generate().sign(digest)


@pytest.mark.parametrize("raw", [b"", b"k" * 31, b"k" * 33, "k" * 32])
def test_from_private_bytes_refuses_wrong_lengths(raw):
    with pytest.raises(ValueError, match="32 raw bytes"):
        ReceiptSigner.from_private_bytes(raw)


def test_generated_signers_differ():
    assert ReceiptSigner.generate().key_id != ReceiptSigner.generate().key_id


# Ids, not the random bytes: every xdist worker must collect the same test names.
@pytest.mark.parametrize(
    "raw", [RFC_SECRET, os.urandom(32), b"\xab" * 32], ids=["rfc", "random", "repeated"]
)
def test_signer_repr_hides_the_private_key(raw):
    signer = ReceiptSigner.from_private_bytes(raw)
    text = repr(signer) + str(signer)
    for form in forms(raw):
        assert form not in text
    assert signer.key_id in text
    assert text.startswith("ReceiptSigner(")


def test_signer_has_no_instance_dict_to_dump():
    signer = ReceiptSigner.generate()
    assert not hasattr(signer, "__dict__")


# --- verify_with_jwks --------------------------------------------------------------------------


def test_sign_then_verify_round_trips():
    signer = ReceiptSigner.generate()
    signature = b64url_decode(signer.sign(DIGEST_HEX))
    assert signature is not None
    assert verify_with_jwks(jwks_of(signer), signer.key_id, DIGEST, signature) is True


def test_verify_finds_the_key_among_several():
    signers = [ReceiptSigner.generate() for _ in range(3)]
    signature = b64url_decode(signers[1].sign(DIGEST_HEX))
    assert signature is not None
    assert verify_with_jwks(jwks_of(*signers), signers[1].key_id, DIGEST, signature)


@pytest.mark.parametrize("position", [0, 1, 31, 32, 63])
def test_verify_is_false_for_a_flipped_signature_byte(position):
    signer = ReceiptSigner.generate()
    raw = bytearray(b64url_decode(signer.sign(DIGEST_HEX)) or b"")
    raw[position] ^= 0x01
    assert verify_with_jwks(jwks_of(signer), signer.key_id, DIGEST, bytes(raw)) is False


def test_verify_is_false_for_another_digest():
    signer = ReceiptSigner.generate()
    signature = b64url_decode(signer.sign(DIGEST_HEX)) or b""
    other = bytes.fromhex(receipt_digest({"action": "decline"}, None))
    assert verify_with_jwks(jwks_of(signer), signer.key_id, other, signature) is False


def test_verify_is_false_for_a_signature_by_another_key():
    signer, other = ReceiptSigner.generate(), ReceiptSigner.generate()
    signature = b64url_decode(other.sign(DIGEST_HEX)) or b""
    assert verify_with_jwks(jwks_of(signer, other), signer.key_id, DIGEST, signature) is False
    assert verify_with_jwks(jwks_of(signer), signer.key_id, DIGEST, signature) is False


def test_verify_is_false_for_an_unknown_key_id():
    signer = ReceiptSigner.generate()
    signature = b64url_decode(signer.sign(DIGEST_HEX)) or b""
    assert verify_with_jwks(jwks_of(signer), "0123456789abcdef", DIGEST, signature) is False
    assert verify_with_jwks({"keys": []}, signer.key_id, DIGEST, signature) is False


def test_verify_uses_only_the_public_part_of_a_jwk():
    signer = ReceiptSigner.generate()
    signature = b64url_decode(signer.sign(DIGEST_HEX)) or b""
    jwk = {**signer.public_jwk(), "d": b64url_encode(os.urandom(32))}
    assert verify_with_jwks({"keys": [jwk]}, signer.key_id, DIGEST, signature) is True


SIGNER = ReceiptSigner.from_private_bytes(RFC_SECRET)
GOOD_JWK = SIGNER.public_jwk()
KID = SIGNER.key_id
SIGNATURE = b64url_decode(SIGNER.sign(DIGEST_HEX)) or b""


def _jwk(**changes):
    jwk = {**GOOD_JWK, **changes}
    return {"keys": [{k: v for k, v in jwk.items() if v is not None}]}


@pytest.mark.parametrize(
    ("jwks", "key_id", "digest", "signature"),
    [
        pytest.param({}, KID, DIGEST, SIGNATURE, id="no_keys_member"),
        pytest.param({"keys": None}, KID, DIGEST, SIGNATURE, id="keys_null"),
        pytest.param({"keys": "x"}, KID, DIGEST, SIGNATURE, id="keys_string"),
        pytest.param({"keys": {KID: GOOD_JWK}}, KID, DIGEST, SIGNATURE, id="keys_object"),
        pytest.param({"keys": [None, 1, "x", []]}, KID, DIGEST, SIGNATURE, id="junk_entries"),
        pytest.param([GOOD_JWK], KID, DIGEST, SIGNATURE, id="jwks_is_a_list"),
        pytest.param(None, KID, DIGEST, SIGNATURE, id="jwks_null"),
        pytest.param("{}", KID, DIGEST, SIGNATURE, id="jwks_string"),
        pytest.param(_jwk(x=None), KID, DIGEST, SIGNATURE, id="x_missing"),
        pytest.param(_jwk(x=GOOD_JWK["x"] + "="), KID, DIGEST, SIGNATURE, id="x_padded"),
        pytest.param(_jwk(x=RFC_PUBLIC.hex()), KID, DIGEST, SIGNATURE, id="x_hex"),
        pytest.param(_jwk(x=b64url_encode(RFC_PUBLIC[:31])), KID, DIGEST, SIGNATURE, id="x_short"),
        pytest.param(
            _jwk(x=b64url_encode(RFC_PUBLIC + b"\0")), KID, DIGEST, SIGNATURE, id="x_long"
        ),
        pytest.param(_jwk(x=123), KID, DIGEST, SIGNATURE, id="x_number"),
        pytest.param(_jwk(x=[GOOD_JWK["x"]]), KID, DIGEST, SIGNATURE, id="x_list"),
        pytest.param(_jwk(kty="EC"), KID, DIGEST, SIGNATURE, id="kty_ec"),
        pytest.param(_jwk(kty=None), KID, DIGEST, SIGNATURE, id="kty_missing"),
        pytest.param(_jwk(crv="X25519"), KID, DIGEST, SIGNATURE, id="crv_x25519"),
        pytest.param(_jwk(alg="RS256"), KID, DIGEST, SIGNATURE, id="alg_rs256"),
        pytest.param(_jwk(use="enc"), KID, DIGEST, SIGNATURE, id="use_enc"),
        pytest.param(_jwk(kid=None), KID, DIGEST, SIGNATURE, id="kid_missing"),
        pytest.param(_jwk(kid=None), None, DIGEST, SIGNATURE, id="key_id_null"),
        pytest.param(_jwk(kid=""), "", DIGEST, SIGNATURE, id="key_id_empty"),
        pytest.param(_jwk(), 12, DIGEST, SIGNATURE, id="key_id_number"),
        pytest.param(_jwk(), KID, DIGEST_HEX, SIGNATURE, id="digest_as_hex_text"),
        pytest.param(_jwk(), KID, DIGEST[:31], SIGNATURE, id="digest_short"),
        pytest.param(_jwk(), KID, DIGEST, SIGNATURE[:63], id="signature_short"),
        pytest.param(_jwk(), KID, DIGEST, SIGNATURE + b"\0", id="signature_long"),
        pytest.param(_jwk(), KID, DIGEST, b"", id="signature_empty"),
        pytest.param(_jwk(), KID, DIGEST, SIGNER.sign(DIGEST_HEX), id="signature_as_text"),
        pytest.param(_jwk(), KID, DIGEST, None, id="signature_null"),
    ],
)
def test_verify_is_false_and_never_raises_on_bad_input(jwks, key_id, digest, signature):
    assert verify_with_jwks(jwks, key_id, digest, signature) is False


def test_the_good_case_of_the_bad_input_table_verifies():
    assert verify_with_jwks(_jwk(), KID, DIGEST, SIGNATURE) is True
    assert verify_with_jwks(_jwk(alg=None, use=None), KID, DIGEST, SIGNATURE) is True


def test_jwks_survives_a_json_round_trip():
    jwks = json.loads(json.dumps(jwks_of(SIGNER)))
    assert verify_with_jwks(jwks, KID, DIGEST, SIGNATURE) is True


# --- chains signed with Ed25519 ----------------------------------------------------------------


def test_a_chain_signed_with_ed25519_verifies_offline_from_json():
    signer = ReceiptSigner.generate()
    receipts = issue(signer, 4)
    exported = json.dumps({"jwks": jwks_of(signer), "receipts": [r.to_dict() for r in receipts]})
    data = json.loads(exported)
    again = [Receipt.from_dict(d) for d in data["receipts"]]
    assert verify_chain(again, partial(verify_with_jwks, data["jwks"])).ok


def test_a_chain_is_refused_with_another_keys_jwks():
    receipts = issue(ReceiptSigner.generate(), 2)
    result = verify_chain(receipts, partial(verify_with_jwks, jwks_of(ReceiptSigner.generate())))
    assert (result.ok, result.first_bad) == (False, 0)
    assert result.reason is not None
    assert receipts[0].key_id in result.reason


# --- keyring: creation and loading -------------------------------------------------------------


def test_create_keyring_writes_one_signing_key(tmp_path):
    path = tmp_path / "keyring.json"
    assert create_keyring(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert list(data["signing"]) == [data["signing_active"]]
    raw = base64.b64decode(data["signing"][data["signing_active"]], validate=True)
    assert len(raw) == 32
    assert ReceiptSigner.from_private_bytes(raw).key_id == data["signing_active"]
    keyring = LocalKeyring.load(path)
    signer = keyring.receipt_signer()
    assert signer.key_id == data["signing_active"]
    assert keyring.receipt_public_keys() == {"keys": [signer.public_jwk()]}


def test_created_keyrings_hold_different_signing_keys(tmp_path):
    create_keyring(tmp_path / "one.json")
    create_keyring(tmp_path / "two.json")
    one = LocalKeyring.load(tmp_path / "one.json").receipt_signer().key_id
    two = LocalKeyring.load(tmp_path / "two.json").receipt_signer().key_id
    assert one != two


def test_a_keyring_without_signing_keys_still_loads(tmp_path):
    path = write(tmp_path / "k.json", {"format": 1, "active": 1, "keys": {"1": ROOT_A}})
    keyring = LocalKeyring.load(path)
    assert len(keyring.agency_kek(AGENCY, 1)) == 32
    assert keyring.receipt_public_keys() == {"keys": []}
    with pytest.raises(KeyringError, match="casehub keys init"):
        keyring.receipt_signer()


def test_local_keyring_is_a_key_provider(tmp_path):
    path = tmp_path / "keyring.json"
    create_keyring(path)
    provider: KeyProvider = LocalKeyring.load(path)
    receipts = issue(provider.receipt_signer(), 2)
    assert verify_chain(receipts, partial(verify_with_jwks, provider.receipt_public_keys())).ok


SIGN_A = bytes(range(100, 132))
SIGN_B = bytes(range(150, 182))
KID_A, B64_A = signing_entry(SIGN_A)
KID_B, B64_B = signing_entry(SIGN_B)


def keyring_data(**overrides):
    return {
        "format": 1,
        "active": 1,
        "keys": {"1": ROOT_A},
        "signing": {KID_A: B64_A},
        "signing_active": KID_A,
        **overrides,
    }


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        pytest.param(keyring_data(signing=[B64_A]), "malformed", id="signing_list"),
        pytest.param(keyring_data(signing=None), "malformed", id="signing_null"),
        pytest.param(
            keyring_data(signing={}), "active signing key id has no key", id="signing_empty"
        ),
        pytest.param(
            {k: v for k, v in keyring_data().items() if k != "signing_active"},
            "malformed",
            id="signing_active_missing",
        ),
        pytest.param(
            {k: v for k, v in keyring_data().items() if k != "signing"},
            "malformed",
            id="signing_missing_but_active_set",
        ),
        pytest.param(keyring_data(signing_active=1), "malformed", id="signing_active_number"),
        pytest.param(
            keyring_data(signing_active=KID_B),
            "active signing key id has no key",
            id="signing_active_unknown",
        ),
        pytest.param(
            keyring_data(signing={KID_A: "not base64!"}), "malformed", id="signing_key_not_base64"
        ),
        pytest.param(
            keyring_data(signing={KID_A: "é" * 44}), "malformed", id="signing_key_not_ascii"
        ),
        pytest.param(keyring_data(signing={KID_A: 5}), "malformed", id="signing_key_number"),
        pytest.param(
            keyring_data(signing={KID_A: base64.b64encode(SIGN_A[:31]).decode()}),
            "wrong length",
            id="signing_key_short",
        ),
        pytest.param(
            keyring_data(signing={KID_A: base64.b64encode(SIGN_A + b"\0").decode()}),
            "wrong length",
            id="signing_key_long",
        ),
        pytest.param(
            keyring_data(signing={KID_B: B64_A}, signing_active=KID_B),
            "does not match its key",
            id="key_id_of_another_key",
        ),
    ],
)
def test_load_refuses_malformed_signing_sections(tmp_path, data, fragment):
    path = write(tmp_path / "k.json", data)
    with pytest.raises(KeyringError) as info:
        LocalKeyring.load(path)
    assert fragment in str(info.value)
    for secret in (SIGN_A, SIGN_B):
        for form in forms(secret):
            assert form not in str(info.value)


def test_constructor_checks_signing_keys():
    roots = {1: bytes(32)}
    with pytest.raises(KeyringError, match="no active one"):
        LocalKeyring(roots, 1, {KID_A: SIGN_A})
    with pytest.raises(KeyringError, match="has no key"):
        LocalKeyring(roots, 1, {}, KID_A)
    with pytest.raises(KeyringError, match="does not match"):
        LocalKeyring(roots, 1, {KID_B: SIGN_A}, KID_B)
    with pytest.raises(KeyringError, match="wrong length"):
        LocalKeyring(roots, 1, {KID_A: SIGN_A[:16]}, KID_A)
    assert LocalKeyring(roots, 1, {KID_A: SIGN_A}, KID_A).receipt_signer().key_id == KID_A


def test_keyring_repr_hides_signing_keys():
    keyring = LocalKeyring({1: bytes(range(32))}, 1, {KID_A: SIGN_A, KID_B: SIGN_B}, KID_B)
    signer = keyring.receipt_signer()
    text = repr(keyring) + str(keyring) + repr(signer)
    for secret in (SIGN_A, SIGN_B, bytes(range(32))):
        for form in forms(secret):
            assert form not in text
    assert KID_A in text
    assert KID_B in text


# --- keyring: rotation -------------------------------------------------------------------------


def test_rotation_keeps_old_receipts_verifiable(tmp_path):
    path = write(tmp_path / "k.json", keyring_data())
    old_keyring = LocalKeyring.load(path)
    assert old_keyring.receipt_signer().key_id == KID_A
    receipts = issue(old_keyring.receipt_signer(), 3)

    # Rotate: add a second key and make it the active one.
    data = json.loads(path.read_text())
    data["signing"][KID_B] = B64_B
    data["signing_active"] = KID_B
    write(path, data)
    keyring = LocalKeyring.load(path)
    assert keyring.receipt_signer().key_id == KID_B
    receipts += issue(keyring.receipt_signer(), 2, prev=receipts[-1].digest, start=4)
    assert [r.key_id for r in receipts] == [KID_A] * 3 + [KID_B] * 2

    jwks = keyring.receipt_public_keys()
    assert sorted(k["kid"] for k in jwks["keys"]) == sorted([KID_A, KID_B])
    assert all("d" not in k for k in jwks["keys"])
    assert verify_chain(receipts, partial(verify_with_jwks, jwks)).ok

    # With only the new key published, the old receipts no longer verify.
    only_new = {"keys": [keyring.receipt_signer().public_jwk()]}
    result = verify_chain(receipts, partial(verify_with_jwks, only_new))
    assert (result.ok, result.first_bad) == (False, 0)


def test_receipt_public_keys_is_a_fresh_sorted_copy():
    keyring = LocalKeyring({1: bytes(32)}, 1, {KID_B: SIGN_B, KID_A: SIGN_A}, KID_A)
    jwks = keyring.receipt_public_keys()
    assert [k["kid"] for k in jwks["keys"]] == sorted([KID_A, KID_B])
    jwks["keys"].clear()
    assert len(keyring.receipt_public_keys()["keys"]) == 2


# --- keyring: add_signing_key_if_missing -------------------------------------------------------


def legacy(tmp_path, mode=0o600, **extra):
    body = {"format": 1, "active": 2, "keys": {"1": ROOT_A, "2": B64_B}, **extra}
    return write(tmp_path / "keyring.json", body, mode)


def test_upgrade_adds_a_signing_key_and_keeps_everything_else(tmp_path):
    path = legacy(tmp_path, comment="kept")
    before = json.loads(path.read_text())
    kek_before = LocalKeyring.load(path).agency_kek(AGENCY, 1)

    assert add_signing_key_if_missing(path) is True

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    after = json.loads(path.read_text())
    assert after["keys"] == before["keys"]
    for version, text in before["keys"].items():
        assert base64.b64decode(after["keys"][version]) == base64.b64decode(text)
    assert {k: v for k, v in after.items() if k not in ("signing", "signing_active")} == before
    assert list(after["signing"]) == [after["signing_active"]]
    keyring = LocalKeyring.load(path)
    assert keyring.active_version == 2
    assert keyring.agency_kek(AGENCY, 1) == kek_before
    assert keyring.receipt_signer().key_id == after["signing_active"]
    assert [p.name for p in tmp_path.iterdir()] == ["keyring.json"]


def test_upgrade_is_idempotent(tmp_path):
    path = legacy(tmp_path)
    assert add_signing_key_if_missing(path) is True
    upgraded = path.read_bytes()
    assert add_signing_key_if_missing(path) is False
    assert path.read_bytes() == upgraded


def test_upgrade_leaves_a_keyring_with_signing_keys_alone(tmp_path):
    path = tmp_path / "keyring.json"
    create_keyring(path)
    before = path.read_bytes()
    inode = path.stat().st_ino
    assert add_signing_key_if_missing(path) is False
    assert path.read_bytes() == before
    assert path.stat().st_ino == inode


@pytest.mark.parametrize("umask", [0, 0o022, 0o077])
def test_upgrade_writes_mode_0600_whatever_the_umask(tmp_path, umask):
    path = legacy(tmp_path, mode=0o400)
    old = os.umask(umask)
    try:
        assert add_signing_key_if_missing(path) is True
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_upgrade_replaces_the_file_rather_than_rewriting_it(tmp_path):
    path = legacy(tmp_path)
    inode = path.stat().st_ino
    assert add_signing_key_if_missing(path) is True
    assert path.stat().st_ino != inode


def test_upgrade_refuses_a_group_readable_keyring_and_leaves_it(tmp_path):
    path = legacy(tmp_path, mode=0o644)
    before = path.read_bytes()
    with pytest.raises(KeyringError, match="chmod 600"):
        add_signing_key_if_missing(path)
    assert path.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("{not json", id="bad_json"),
        pytest.param(json.dumps({"format": 2, "active": 1, "keys": {"1": ROOT_A}}), id="format_2"),
        pytest.param(json.dumps(keyring_data(signing_active=KID_B)), id="bad_signing_section"),
    ],
)
def test_upgrade_refuses_a_malformed_keyring_and_leaves_it(tmp_path, body):
    path = tmp_path / "keyring.json"
    path.write_text(body)
    os.chmod(path, 0o600)
    with pytest.raises(KeyringError):
        add_signing_key_if_missing(path)
    assert path.read_text() == body
    assert [p.name for p in tmp_path.iterdir()] == ["keyring.json"]


@pytest.mark.parametrize("relative", ["absent.json", "no/such/dir/keyring.json"])
def test_upgrade_of_a_missing_keyring_names_keys_init(tmp_path, relative):
    path = tmp_path / relative
    with pytest.raises(KeyringError, match="casehub keys init") as info:
        add_signing_key_if_missing(path)
    assert str(path) in str(info.value)
    assert not path.exists()


def test_concurrent_upgrades_add_exactly_one_key(tmp_path):
    path = legacy(tmp_path)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def upgrade() -> None:
        barrier.wait()
        results.append(add_signing_key_if_missing(path))

    threads = [threading.Thread(target=upgrade) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    assert len(json.loads(path.read_text())["signing"]) == 1
