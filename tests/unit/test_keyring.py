"""The local keyring file: creation, permissions, parsing, and per-agency KEKs."""

from __future__ import annotations

import base64
import json
import os
import stat
from uuid import UUID

import pytest

from casehub.crypto import KeyringError, LocalKeyring, create_keyring
from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.crypto.rotation import add_accreditation_key_if_missing
from casehub.domain.signatures import SigningAlgorithm

AGENCY = UUID("55555555-5555-7555-8555-555555555555")
OTHER = UUID("66666666-6666-7666-8666-666666666666")
KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(50, 82))).decode()


def write(path, body, mode=0o600):
    path.write_text(body if isinstance(body, str) else json.dumps(body), "utf-8")
    os.chmod(path, mode)
    return path


def good(**overrides):
    return {"format": 1, "active": 1, "keys": {"1": KEY_A}, **overrides}


# --- create_keyring ----------------------------------------------------------------------------


def test_create_keyring_makes_a_0600_file(tmp_path):
    path = tmp_path / "keyring.json"
    assert create_keyring(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["format"] == 1
    assert data["active"] == 1
    assert len(base64.b64decode(data["keys"]["1"])) == 32


def test_create_keyring_is_0600_even_with_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        path = tmp_path / "keyring.json"
        assert create_keyring(path) is True
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_create_keyring_returns_false_and_keeps_existing_file(tmp_path):
    path = tmp_path / "keyring.json"
    assert create_keyring(path) is True
    before = path.read_bytes()
    assert create_keyring(path) is False
    assert path.read_bytes() == before


def test_create_keyring_does_not_overwrite_a_foreign_file(tmp_path):
    path = write(tmp_path / "keyring.json", "not mine", 0o644)
    assert create_keyring(path) is False
    assert path.read_text() == "not mine"


def test_create_keyring_makes_parent_directories(tmp_path):
    path = tmp_path / "a" / "b" / "keyring.json"
    assert create_keyring(path) is True
    assert path.is_file()


def test_created_keyrings_hold_different_keys(tmp_path):
    create_keyring(tmp_path / "one.json")
    create_keyring(tmp_path / "two.json")
    one = json.loads((tmp_path / "one.json").read_text())["keys"]["1"]
    two = json.loads((tmp_path / "two.json").read_text())["keys"]["1"]
    assert one != two


def test_created_keyring_loads(tmp_path):
    path = tmp_path / "keyring.json"
    create_keyring(path)
    keys = LocalKeyring.load(path)
    assert keys.active_version == 1
    assert len(keys.agency_kek(AGENCY, 1)) == 32


# --- LocalKeyring.load -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_load_accepts_owner_only_modes(tmp_path, mode):
    path = write(tmp_path / "k.json", good(), mode)
    assert LocalKeyring.load(path).active_version == 1


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o606, 0o610, 0o601, 0o620, 0o602])
def test_load_refuses_group_or_other_access(tmp_path, mode):
    path = write(tmp_path / "k.json", good(), mode)
    with pytest.raises(KeyringError) as info:
        LocalKeyring.load(path)
    message = str(info.value)
    assert "chmod 600" in message
    assert str(path) in message
    assert KEY_A not in message


def test_load_missing_file_names_keys_init(tmp_path):
    path = tmp_path / "absent.json"
    with pytest.raises(KeyringError) as info:
        LocalKeyring.load(path)
    assert "casehub keys init" in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        pytest.param("", "malformed", id="empty_file"),
        pytest.param("{not json", "malformed", id="bad_json"),
        pytest.param("\xff\xfe", "malformed", id="not_utf8_text"),
        pytest.param(good(format=2), "unknown format", id="format_2"),
        pytest.param(good(format="1"), "unknown format", id="format_string"),
        pytest.param({"active": 1, "keys": {"1": KEY_A}}, "unknown format", id="format_missing"),
        pytest.param({"format": 1, "active": 1}, "malformed", id="keys_missing"),
        pytest.param({"format": 1, "keys": {"1": KEY_A}}, "malformed", id="active_missing"),
        pytest.param(good(active="one"), "malformed", id="active_not_a_number"),
        pytest.param(good(active=None), "malformed", id="active_null"),
        pytest.param(good(keys={"v1": KEY_A}), "malformed", id="version_not_a_number"),
        pytest.param(good(keys={"1": "not base64!"}), "malformed", id="key_not_base64"),
        pytest.param(good(keys={"1": "é" * 44}), "malformed", id="key_not_ascii"),
        pytest.param(good(keys={"1": 12345}), "malformed", id="key_not_a_string"),
        pytest.param(
            good(keys={"1": base64.b64encode(b"k" * 16).decode()}),
            "wrong length",
            id="key_16_bytes",
        ),
        pytest.param(
            good(keys={"1": base64.b64encode(b"k" * 33).decode()}),
            "wrong length",
            id="key_33_bytes",
        ),
        pytest.param(good(keys={"1": ""}), "wrong length", id="key_empty"),
        pytest.param(
            good(keys={"1": KEY_A, "2": base64.b64encode(b"k" * 31).decode()}),
            "wrong length",
            id="second_key_short",
        ),
        pytest.param(good(active=2), "active version has no key", id="active_without_key"),
        pytest.param(good(keys={}), "active version has no key", id="no_keys"),
    ],
)
def test_load_refuses_malformed_files(tmp_path, body, fragment):
    path = tmp_path / "k.json"
    if body == "\xff\xfe":
        path.write_bytes(b"\xff\xfe\x00")
        os.chmod(path, 0o600)
    else:
        write(path, body)
    with pytest.raises(KeyringError) as info:
        LocalKeyring.load(path)
    assert fragment in str(info.value)
    assert KEY_A not in str(info.value)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[]", id="json_array"),
        pytest.param('"keyring"', id="json_string"),
        pytest.param("1", id="json_number"),
        pytest.param("null", id="json_null"),
        pytest.param(json.dumps(good(keys=[KEY_A])), id="keys_is_a_list"),
        pytest.param(json.dumps(good(keys=KEY_A)), id="keys_is_a_string"),
    ],
)
def test_load_refuses_wrongly_shaped_json_with_keyring_error(tmp_path, body):
    # Any malformed keyring must surface as KeyringError, not as an AttributeError.
    path = write(tmp_path / "k.json", body)
    with pytest.raises(KeyringError, match="malformed"):
        LocalKeyring.load(path)


def test_load_refuses_a_directory_with_keyring_error(tmp_path):
    path = tmp_path / "keyring.json"
    path.mkdir(mode=0o700)
    os.chmod(path, 0o700)
    with pytest.raises(KeyringError):
        LocalKeyring.load(path)


def test_load_reads_several_versions(tmp_path):
    path = write(tmp_path / "k.json", good(active=2, keys={"1": KEY_A, "2": KEY_B}))
    keys = LocalKeyring.load(path)
    assert keys.active_version == 2
    assert keys.agency_kek(AGENCY, 1) != keys.agency_kek(AGENCY, 2)


# --- LocalKeyring and agency KEKs ----------------------------------------------------------------

ROOTS = {1: bytes(range(32)), 2: bytes(range(50, 82))}


def test_constructor_refuses_active_version_without_key():
    with pytest.raises(KeyringError):
        LocalKeyring(dict(ROOTS), active_version=3)


def test_agency_kek_is_32_bytes_and_not_the_root():
    kek = LocalKeyring(dict(ROOTS), 1).agency_kek(AGENCY, 1)
    assert len(kek) == 32
    assert kek not in ROOTS.values()


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ((AGENCY, 1), (OTHER, 1)),
        ((AGENCY, 1), (AGENCY, 2)),
        ((AGENCY, 2), (OTHER, 2)),
        ((AGENCY, 1), (OTHER, 2)),
    ],
)
def test_agency_kek_differs_per_agency_and_version(left, right):
    keys = LocalKeyring(dict(ROOTS), 1)
    assert keys.agency_kek(*left) != keys.agency_kek(*right)


def test_agency_kek_is_stable_across_calls_and_instances(tmp_path):
    one = LocalKeyring(dict(ROOTS), 1)
    two = LocalKeyring(dict(ROOTS), 2)
    for version in (1, 2):
        first = one.agency_kek(AGENCY, version)
        assert one.agency_kek(AGENCY, version) == first
        assert two.agency_kek(UUID(str(AGENCY)), version) == first


def test_agency_kek_depends_on_the_root_key():
    mine = LocalKeyring({1: bytes(32)}, 1).agency_kek(AGENCY, 1)
    theirs = LocalKeyring({1: bytes([1]) + bytes(31)}, 1).agency_kek(AGENCY, 1)
    assert mine != theirs


@pytest.mark.parametrize("version", [0, 3, -1])
def test_agency_kek_for_unknown_version_raises_keyring_error(version):
    with pytest.raises(KeyringError, match=f"Key version {version} "):
        LocalKeyring(dict(ROOTS), 1).agency_kek(AGENCY, version)


# --- the hub's accreditation key -------------------------------------------------------------

HUB_KEY = AgencyPrivateKey.from_seeds(
    SigningAlgorithm.ED25519_ML_DSA_65, bytes(range(32)), bytes(range(32, 64))
)
ED_KEY = AgencyPrivateKey.from_seeds(SigningAlgorithm.ED25519, bytes(range(32)))


def accredited(**overrides):
    thumbprint = HUB_KEY.public.thumbprint
    return good(
        accreditation={thumbprint: HUB_KEY.to_json()},
        accreditation_active=thumbprint,
        **overrides,
    )


def test_create_keyring_makes_a_hybrid_accreditation_key(tmp_path):
    path = tmp_path / "keyring.json"
    assert create_keyring(path) is True
    data = json.loads(path.read_text())
    assert list(data["accreditation"]) == [data["accreditation_active"]]
    signer = LocalKeyring.load(path).accreditation_signer()
    assert signer.algorithm is SigningAlgorithm.ED25519_ML_DSA_65
    assert signer.public.thumbprint == data["accreditation_active"]
    assert signer.public.verify(b"statement", signer.sign(b"statement"))


def test_created_keyrings_hold_different_accreditation_keys(tmp_path):
    create_keyring(tmp_path / "one.json")
    create_keyring(tmp_path / "two.json")
    one = LocalKeyring.load(tmp_path / "one.json").accreditation_signer()
    two = LocalKeyring.load(tmp_path / "two.json").accreditation_signer()
    assert one.public != two.public


def test_accreditation_public_keys_is_a_jwks_of_thumbprints(tmp_path):
    keyring = LocalKeyring.from_data(tmp_path / "k.json", accredited())
    jwks = keyring.accreditation_public_keys()
    assert jwks == {"keys": [{**HUB_KEY.public.to_jwk(), "kid": HUB_KEY.public.thumbprint}]}
    seeds = HUB_KEY.to_json()
    assert seeds["ed25519"] not in json.dumps(jwks)
    assert seeds["mldsa65"] not in json.dumps(jwks)
    assert keyring.accreditation_signer().to_json() == HUB_KEY.to_json()


def test_accreditation_public_keys_lists_old_keys_too():
    other = AgencyPrivateKey.from_seeds(
        SigningAlgorithm.ED25519_ML_DSA_65, bytes(range(1, 33)), bytes(range(2, 34))
    )
    keys = {HUB_KEY.public.thumbprint: HUB_KEY, other.public.thumbprint: other}
    keyring = LocalKeyring(
        dict(ROOTS), 1, accreditation_keys=keys, accreditation_active=other.public.thumbprint
    )
    assert [jwk["kid"] for jwk in keyring.accreditation_public_keys()["keys"]] == sorted(keys)


def test_old_keyring_without_accreditation_key_loads(tmp_path):
    path = write(tmp_path / "keyring.json", good())
    keyring = LocalKeyring.load(path)
    assert keyring.accreditation_public_keys() == {"keys": []}
    with pytest.raises(
        KeyringError, match="no accreditation key: add one with `casehub keys init`"
    ):
        keyring.accreditation_signer()


def test_repr_shows_no_accreditation_seed(tmp_path):
    keyring = LocalKeyring.from_data(tmp_path / "k.json", accredited())
    text = repr(keyring)
    assert HUB_KEY.public.thumbprint in text
    assert HUB_KEY.to_json()["ed25519"] not in text
    assert HUB_KEY.to_json()["mldsa65"] not in text


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"accreditation": {}}, "malformed"),
        ({"accreditation_active": HUB_KEY.public.thumbprint}, "malformed"),
        ({"accreditation": [], "accreditation_active": "x"}, "malformed"),
        ({"accreditation": {"x": HUB_KEY.to_json()}, "accreditation_active": 1}, "malformed"),
        (
            {"accreditation": {"x": {"format": "nope"}}, "accreditation_active": "x"},
            "malformed accreditation key",
        ),
        (
            {
                "accreditation": {"x": {**HUB_KEY.to_json(), "thumbprint": "x"}},
                "accreditation_active": "x",
            },
            "malformed accreditation key",
        ),
        (
            {"accreditation": {"x": HUB_KEY.to_json()}, "accreditation_active": "x"},
            "does not match its key",
        ),
        (
            {
                "accreditation": {ED_KEY.public.thumbprint: ED_KEY.to_json()},
                "accreditation_active": ED_KEY.public.thumbprint,
            },
            r"must be Ed25519\+ML-DSA-65",
        ),
        (
            {
                "accreditation": {HUB_KEY.public.thumbprint: HUB_KEY.to_json()},
                "accreditation_active": "missing",
            },
            "active accreditation key has no key",
        ),
    ],
)
def test_load_refuses_malformed_accreditation_entries(tmp_path, overrides, fragment):
    path = write(tmp_path / "keyring.json", good(**overrides))
    with pytest.raises(KeyringError, match=fragment):
        LocalKeyring.load(path)


def test_constructor_refuses_accreditation_keys_without_an_active_one():
    keys = {HUB_KEY.public.thumbprint: HUB_KEY}
    with pytest.raises(KeyringError, match="no active one"):
        LocalKeyring(dict(ROOTS), 1, accreditation_keys=keys)


def test_constructor_refuses_what_is_no_agency_key():
    with pytest.raises(KeyringError, match="malformed accreditation key"):
        LocalKeyring(dict(ROOTS), 1, accreditation_keys={"x": b"raw"}, accreditation_active="x")  # type: ignore[dict-item]


def test_upgrade_adds_an_accreditation_key_and_keeps_everything_else(tmp_path):
    path = write(tmp_path / "keyring.json", good(comment="kept"))
    before = json.loads(path.read_text())
    kek_before = LocalKeyring.load(path).agency_kek(AGENCY, 1)

    assert add_accreditation_key_if_missing(path) is True

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    after = json.loads(path.read_text())
    assert {k: v for k, v in after.items() if not k.startswith("accreditation")} == before
    assert list(after["accreditation"]) == [after["accreditation_active"]]
    keyring = LocalKeyring.load(path)
    assert keyring.agency_kek(AGENCY, 1) == kek_before
    signer = keyring.accreditation_signer()
    assert signer.public.thumbprint == after["accreditation_active"]
    assert signer.algorithm is SigningAlgorithm.ED25519_ML_DSA_65
    assert [p.name for p in tmp_path.iterdir()] == ["keyring.json"]


def test_accreditation_upgrade_is_idempotent(tmp_path):
    path = write(tmp_path / "keyring.json", good())
    assert add_accreditation_key_if_missing(path) is True
    upgraded = path.read_bytes()
    assert add_accreditation_key_if_missing(path) is False
    assert path.read_bytes() == upgraded


def test_accreditation_upgrade_leaves_a_new_keyring_alone(tmp_path):
    path = tmp_path / "keyring.json"
    create_keyring(path)
    before = path.read_bytes()
    assert add_accreditation_key_if_missing(path) is False
    assert path.read_bytes() == before


def test_accreditation_upgrade_refuses_what_does_not_load(tmp_path):
    path = write(tmp_path / "keyring.json", good(), mode=0o644)
    with pytest.raises(KeyringError, match="readable by group or others"):
        add_accreditation_key_if_missing(path)
    with pytest.raises(KeyringError, match="No keyring at"):
        add_accreditation_key_if_missing(tmp_path / "absent" / "keyring.json")
