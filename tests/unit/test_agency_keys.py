"""Agency signing keys: public JWKs (parsed, refused, thumbprinted), signatures, key files."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest
import rfc8785
from joserfc.jwk import OKPKey

from casehub.crypto.agency_keys import (
    JWK_TEXT_MAX,
    KEY_FILE_FORMAT,
    KEY_FILE_MAX,
    MESSAGE_MAX_BYTES,
    SIGNATURE_MAX_CHARS,
    AgencyPrivateKey,
    AgencyPublicKey,
    KeyFormatError,
)
from casehub.domain.requests.receipts import b64url_decode, b64url_encode
from casehub.domain.signatures import SigningAlgorithm

ED = SigningAlgorithm.ED25519
HYBRID = SigningAlgorithm.ED25519_ML_DSA_65
MESSAGE = b'{"format":"casehub-statement/1"}'

# RFC 8037 appendix A.1 (the key), A.3 (its thumbprint) and A.4 (a signature by it).
RFC_SEED = b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
RFC_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC_SIGNING_INPUT = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
RFC_SIGNATURE = (
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)


@pytest.fixture(scope="module")
def keys():
    return {algorithm: AgencyPrivateKey.generate(algorithm) for algorithm in SigningAlgorithm}


@pytest.fixture(scope="module")
def ed_key(keys):
    return keys[ED]


@pytest.fixture(scope="module")
def hybrid_key(keys):
    return keys[HYBRID]


# --- RFC 8037 ------------------------------------------------------------------------------------


def test_rfc8037_key_thumbprint_and_signature():
    assert RFC_SEED is not None
    key = AgencyPrivateKey.from_seeds(ED, RFC_SEED)
    assert key.public.to_jwk() == {"kty": "OKP", "crv": "Ed25519", "x": RFC_X}
    assert key.public.thumbprint == RFC_THUMBPRINT
    assert key.sign(RFC_SIGNING_INPUT) == RFC_SIGNATURE
    assert key.public.verify(RFC_SIGNING_INPUT, RFC_SIGNATURE)


def test_ed25519_thumbprint_is_joserfc_rfc7638(ed_key):
    jwk = ed_key.public.to_jwk()
    assert ed_key.public.thumbprint == OKPKey.import_key(dict(jwk)).thumbprint()


def test_hybrid_thumbprint_commits_to_both_halves(hybrid_key):
    jwk = hybrid_key.public.to_jwk()

    def b64_sha256(members):
        return b64url_encode(hashlib.sha256(rfc8785.dumps(members)).digest())

    okp = OKPKey.import_key(dict(jwk["ed25519"])).thumbprint()
    mldsa = jwk["mldsa65"]
    akp = b64_sha256({"alg": "ML-DSA-65", "kty": "AKP", "pub": mldsa["pub"]})
    expected = b64_sha256({"alg": "Ed25519+ML-DSA-65", "ed25519": okp, "mldsa65": akp})
    assert hybrid_key.public.thumbprint == expected
    assert hybrid_key.public.thumbprint != okp


# --- public JWKs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", list(SigningAlgorithm))
def test_public_jwk_round_trips(keys, algorithm):
    public = keys[algorithm].public
    jwk = public.to_jwk()
    assert AgencyPublicKey.from_jwk(jwk) == public
    assert AgencyPublicKey.from_jwk_text(json.dumps(jwk)) == public
    assert public.algorithm is algorithm


def test_hybrid_public_jwk_has_the_spec_shape(hybrid_key):
    jwk = hybrid_key.public.to_jwk()
    assert jwk["kty"] == "casehub-hybrid"
    assert jwk["alg"] == "Ed25519+ML-DSA-65"
    assert set(jwk["ed25519"]) == {"kty", "crv", "x"}
    assert {k: v for k, v in jwk["mldsa65"].items() if k != "pub"} == {
        "kty": "AKP",
        "alg": "ML-DSA-65",
    }
    assert len(b64url_decode(jwk["mldsa65"]["pub"]) or b"") == 1952


def test_extra_members_are_allowed_and_ignored(ed_key):
    jwk = {**ed_key.public.to_jwk(), "kid": "mine", "alg": "EdDSA", "use": "sig"}
    assert AgencyPublicKey.from_jwk(jwk) == ed_key.public


def _ed_jwk(**changes):
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": RFC_X, **changes}
    return {k: v for k, v in jwk.items() if v is not None}


def _hybrid_jwk(hybrid_key, **changes):
    jwk = {**hybrid_key.public.to_jwk(), **changes}
    return {k: v for k, v in jwk.items() if v is not None}


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        (None, "a JWK is a JSON object"),
        ("text", "a JWK is a JSON object"),
        ([RFC_X], "a JWK is a JSON object"),
        (42, "a JWK is a JSON object"),
        ({**_ed_jwk(), **{f"m{n}": n for n in range(14)}}, "more than 16 members"),
        (_ed_jwk(d="nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"), "private key ('d')"),
        (_ed_jwk(kty="EC", crv="P-256"), "wrong curve 'P-256'"),
        (_ed_jwk(crv="X25519"), "wrong curve 'X25519'"),
        (_ed_jwk(crv=None), "wrong curve None"),
        (_ed_jwk(kty="RSA", crv=None), "unknown kty 'RSA'"),
        (_ed_jwk(kty=None), "unknown kty None"),
        (_ed_jwk(alg="ES256"), "alg 'ES256'"),
        (_ed_jwk(use="enc"), "use 'enc'"),
        (_ed_jwk(x=None), "'x' is missing"),
        (_ed_jwk(x=7), "'x' is missing or not a string"),
        (_ed_jwk(x=b64url_encode(bytes(31))), "'x' is not 32 bytes"),
        (_ed_jwk(x=b64url_encode(bytes(33))), "'x' is not 32 bytes"),
        (_ed_jwk(x="+" + RFC_X[1:]), "'x' is not unpadded base64url"),
        (_ed_jwk(x=RFC_X[:-1] + "p"), "'x' is not unpadded base64url"),  # stray low bits
    ],
)
def test_from_jwk_refuses(jwk, message):
    with pytest.raises(KeyFormatError, match=r"^Not (a|an) ") as error:
        AgencyPublicKey.from_jwk(jwk)
    assert message in str(error.value)


def test_from_jwk_messages_name_what_was_wanted():
    with pytest.raises(KeyFormatError, match=r"^Not an Ed25519 JWK: wrong curve 'P-256'"):
        AgencyPublicKey.from_jwk(_ed_jwk(kty="EC", crv="P-256"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alg": "Ed25519"}, "Not an Ed25519+ML-DSA-65 key: alg 'Ed25519'"),
        ({"ed25519": None}, "its ed25519 half is missing"),
        ({"mldsa65": None}, "its mldsa65 half is missing"),
        ({"d": "secret"}, "private key ('d')"),
        ({"ed25519": _ed_jwk(crv="X25519")}, "Not an Ed25519 JWK: wrong curve 'X25519'"),
        ({"ed25519": _ed_jwk(d="secret")}, "Not an Ed25519 JWK: it holds the private key"),
        ({"ed25519": "not an object"}, "Not an Ed25519 JWK: a JWK is a JSON object"),
        ({"mldsa65": "not an object"}, "Not an ML-DSA-65 JWK: a JWK is a JSON object"),
        ({"mldsa65": {"kty": "OKP", "alg": "ML-DSA-65"}}, "unknown kty 'OKP'"),
        ({"mldsa65": {"kty": "AKP", "alg": "ML-DSA-44"}}, "alg 'ML-DSA-44'"),
        ({"mldsa65": {"kty": "AKP", "alg": "ML-DSA-65"}}, "'pub' is missing"),
        (
            {"mldsa65": {"kty": "AKP", "alg": "ML-DSA-65", "pub": b64url_encode(bytes(1312))}},
            "'pub' is not 1952 bytes",
        ),
        (
            {"mldsa65": {"kty": "AKP", "alg": "ML-DSA-65", "pub": "!" * 2603}},
            "'pub' is not unpadded base64url",
        ),
    ],
)
def test_from_jwk_refuses_hybrid(hybrid_key, change, message):
    with pytest.raises(KeyFormatError) as error:
        AgencyPublicKey.from_jwk(_hybrid_jwk(hybrid_key, **change))
    assert message in str(error.value)


def test_from_jwk_refuses_the_private_member_of_the_mldsa_half(hybrid_key):
    jwk = hybrid_key.public.to_jwk()
    jwk["mldsa65"] = {**jwk["mldsa65"], "priv": "secret"}
    with pytest.raises(KeyFormatError, match=r"private key \('priv'\)"):
        AgencyPublicKey.from_jwk(jwk)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (" " * (JWK_TEXT_MAX + 1), "longer than 16384"),
        ("{", "not JSON"),
        ("[" * 5000 + "]" * 5000, "not JSON"),
        ('"a string"', "a JWK is a JSON object"),
        ('{"kty":"OKP","crv":"X25519","x":"' + RFC_X + '"}', "wrong curve 'X25519'"),
    ],
)
def test_from_jwk_text_refuses(text, message):
    with pytest.raises(KeyFormatError) as error:
        AgencyPublicKey.from_jwk_text(text)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("algorithm", "ed25519", "mldsa65"),
    [
        (ED, bytes(31), None),
        (ED, bytes(32), bytes(1952)),
        (HYBRID, bytes(32), None),
        (HYBRID, bytes(32), bytes(1951)),
    ],
)
def test_public_key_refuses_inconsistent_parts(algorithm, ed25519, mldsa65):
    with pytest.raises(KeyFormatError):
        AgencyPublicKey(algorithm, ed25519, mldsa65)


# --- signatures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", list(SigningAlgorithm))
def test_sign_and_verify(keys, algorithm):
    key = keys[algorithm]
    signature = key.sign(MESSAGE)
    assert key.public.verify(MESSAGE, signature)
    assert not key.public.verify(MESSAGE + b" ", signature)
    assert len(signature) <= SIGNATURE_MAX_CHARS
    assert signature.count(".") == (1 if algorithm is HYBRID else 0)


def test_ed25519_signatures_are_deterministic(ed_key):
    assert ed_key.sign(MESSAGE) == ed_key.sign(MESSAGE)


def test_hybrid_needs_both_halves_to_verify(hybrid_key):
    good_ed, good_ml = hybrid_key.sign(MESSAGE).split(".")
    other_ed, other_ml = hybrid_key.sign(b"another message").split(".")
    public = hybrid_key.public
    assert public.verify(MESSAGE, f"{good_ed}.{good_ml}")
    assert not public.verify(MESSAGE, f"{good_ed}.{other_ml}")
    assert not public.verify(MESSAGE, f"{other_ed}.{good_ml}")
    assert not public.verify(MESSAGE, good_ed)
    assert not public.verify(MESSAGE, f"{good_ml}.{good_ed}")
    assert not public.verify(MESSAGE, f"{good_ed}.{good_ml}.{good_ml}")


def test_signature_of_another_key_does_not_verify(keys):
    other = AgencyPrivateKey.generate(ED)
    assert not keys[ED].public.verify(MESSAGE, other.sign(MESSAGE))
    assert not keys[HYBRID].public.verify(MESSAGE, keys[ED].sign(MESSAGE))
    assert not keys[ED].public.verify(MESSAGE, keys[HYBRID].sign(MESSAGE))


@pytest.mark.parametrize(
    "signature",
    [
        "",
        ".",
        "a.b",
        "é" * 86,
        b64url_encode(bytes(64)),
        b64url_encode(bytes(63)),
        "A" * (SIGNATURE_MAX_CHARS + 1),
        None,
        b"bytes",
        42,
    ],
)
@pytest.mark.parametrize("algorithm", list(SigningAlgorithm))
def test_verify_never_raises_on_malformed_signatures(keys, algorithm, signature):
    assert keys[algorithm].public.verify(MESSAGE, signature) is False


def test_verify_refuses_an_oversized_signature_even_if_it_would_verify(ed_key):
    # The bound is on the text: padding a good signature past it must not reach the verifier.
    signature = ed_key.sign(MESSAGE)
    assert not ed_key.public.verify(MESSAGE, signature + "A" * SIGNATURE_MAX_CHARS)


@pytest.mark.parametrize("message", ["text", None, b"x" * (MESSAGE_MAX_BYTES + 1)])
def test_verify_refuses_bad_messages(ed_key, message):
    assert ed_key.public.verify(message, ed_key.sign(MESSAGE)) is False


def test_sign_refuses_an_oversized_message(ed_key):
    with pytest.raises(ValueError, match="at most 8192 bytes"):
        ed_key.sign(b"x" * (MESSAGE_MAX_BYTES + 1))
    assert ed_key.public.verify(b"x" * MESSAGE_MAX_BYTES, ed_key.sign(b"x" * MESSAGE_MAX_BYTES))


# --- private keys and key files ------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", list(SigningAlgorithm))
def test_private_json_round_trips(keys, algorithm):
    data = keys[algorithm].to_json()
    assert data["format"] == KEY_FILE_FORMAT
    assert data["alg"] == algorithm.value
    assert data["thumbprint"] == keys[algorithm].public.thumbprint
    assert ("mldsa65" in data) is (algorithm is HYBRID)
    again = AgencyPrivateKey.from_json(data)
    assert again.public == keys[algorithm].public
    assert again.to_json() == data


def test_from_seeds_is_deterministic_for_both_halves():
    one = AgencyPrivateKey.from_seeds(HYBRID, bytes(32), bytes(range(32)))
    two = AgencyPrivateKey.from_seeds(HYBRID, bytes(32), bytes(range(32)))
    assert one.public == two.public


@pytest.mark.parametrize(
    ("algorithm", "seeds"),
    [
        (ED, (bytes(31),)),
        (ED, (bytes(32), bytes(32))),
        (HYBRID, (bytes(32),)),
        (HYBRID, (bytes(32), bytes(33))),
        (ED, ("a" * 32,)),
    ],
)
def test_from_seeds_refuses(algorithm, seeds):
    with pytest.raises(KeyFormatError):
        AgencyPrivateKey.from_seeds(algorithm, *seeds)


def _without(data, member):
    return {k: v for k, v in data.items() if k != member}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: [d], "not a JSON object"),
        (lambda d: {**d, **{f"m{n}": n for n in range(12)}}, "not a JSON object"),
        (lambda d: {**d, "format": "casehub-agency-key/2"}, "format"),
        (lambda d: {**d, "alg": "RSA"}, "unknown alg 'RSA'"),
        (lambda d: _without(d, "alg"), "unknown alg"),
        (lambda d: _without(d, "mldsa65"), "wrong seeds"),
        (lambda d: {**d, "ed25519": d["ed25519"][:-2]}, "'ed25519' is not 32 bytes"),
        (lambda d: {**d, "mldsa65": "=" * 43}, "'mldsa65' is not unpadded base64url"),
        (lambda d: {**d, "thumbprint": "x" * 43}, "thumbprint is not its key's"),
        (lambda d: _without(d, "thumbprint"), "thumbprint is not its key's"),
    ],
)
def test_from_json_refuses(hybrid_key, mutate, message):
    with pytest.raises(KeyFormatError, match=r"^Not an agency key file: ") as error:
        AgencyPrivateKey.from_json(mutate(hybrid_key.to_json()))
    assert message in str(error.value)


def test_from_json_refuses_an_ed25519_key_with_a_second_seed(ed_key, hybrid_key):
    data = {**ed_key.to_json(), "mldsa65": hybrid_key.to_json()["mldsa65"]}
    with pytest.raises(KeyFormatError, match="wrong seeds"):
        AgencyPrivateKey.from_json(data)


def test_repr_shows_no_secret(hybrid_key):
    text = repr(hybrid_key)
    assert hybrid_key.public.thumbprint in text
    data = hybrid_key.to_json()
    assert data["ed25519"] not in text
    assert data["mldsa65"] not in text


@pytest.mark.parametrize("algorithm", list(SigningAlgorithm))
def test_save_then_load(tmp_path, keys, algorithm):
    path = tmp_path / "agency.key"
    keys[algorithm].save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert AgencyPrivateKey.load(path).public == keys[algorithm].public
    assert json.loads(path.read_text())["thumbprint"] == keys[algorithm].public.thumbprint


def test_save_is_0600_whatever_the_umask(tmp_path, ed_key):
    old = os.umask(0)
    try:
        ed_key.save(tmp_path / "agency.key")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "agency.key").stat().st_mode) == 0o600


def test_save_never_overwrites(tmp_path, ed_key):
    path = tmp_path / "agency.key"
    path.write_text("precious")
    with pytest.raises(FileExistsError):
        ed_key.save(path)
    assert path.read_text() == "precious"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_load_refuses_a_file_group_or_others_can_read(tmp_path, ed_key, mode):
    path = tmp_path / "agency.key"
    ed_key.save(path)
    os.chmod(path, mode)
    with pytest.raises(KeyFormatError, match=r"readable by group or others: run `chmod 600"):
        AgencyPrivateKey.load(path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "is not JSON"),
        (" " * (KEY_FILE_MAX + 1), "too large"),
        ("[]", "Not an agency key file"),
    ],
)
def test_load_refuses_malformed_files(tmp_path, body, message):
    path = tmp_path / "agency.key"
    path.write_text(body)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFormatError, match=message):
        AgencyPrivateKey.load(path)


def test_load_of_a_missing_file(tmp_path):
    with pytest.raises(KeyFormatError, match="No key file at"):
        AgencyPrivateKey.load(tmp_path / "absent.key")


def test_load_of_a_directory(tmp_path):
    os.chmod(tmp_path, 0o700)
    with pytest.raises(KeyFormatError):
        AgencyPrivateKey.load(tmp_path)
