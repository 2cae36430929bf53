"""The keyring's "federation" entry: added once, loaded, refused when malformed or present."""

from __future__ import annotations

import json
import stat

import pytest

from casehub.crypto import KeyringError, LocalKeyring, create_keyring
from casehub.crypto.agency_keys import KeyFormatError
from casehub.crypto.rotation import add_hub_identity


@pytest.fixture
def keyring_path(tmp_path):
    path = tmp_path / "keyring.json"
    create_keyring(path)
    return path


def test_a_new_keyring_has_no_hub_identity(keyring_path):
    keyring = LocalKeyring.load(keyring_path)
    assert not keyring.has_hub_identity
    with pytest.raises(KeyringError, match="casehub federation init"):
        keyring.hub_identity()


def test_adding_a_hub_identity_keeps_everything_else_and_the_file_private(keyring_path):
    before = json.loads(keyring_path.read_text())
    identity = add_hub_identity(keyring_path, "MY")
    after = json.loads(keyring_path.read_text())
    assert after.pop("federation") == identity.to_json()
    assert after == before
    assert stat.S_IMODE(keyring_path.stat().st_mode) == 0o600
    loaded = LocalKeyring.load(keyring_path).hub_identity()
    assert loaded.public == identity.public
    assert loaded.public.fingerprint() == identity.public.fingerprint()
    text = repr(LocalKeyring.load(keyring_path))
    assert str(identity.hub_id) in text
    entry = identity.to_json()
    signing = identity.signing.to_json()
    for secret in (str(entry["sealing"]), signing["ed25519"], signing["mldsa65"]):
        assert secret not in text


def test_an_existing_hub_identity_is_never_replaced(keyring_path):
    add_hub_identity(keyring_path, "MY")
    body = keyring_path.read_bytes()
    with pytest.raises(KeyringError, match="already has a hub identity"):
        add_hub_identity(keyring_path, "FR")
    assert keyring_path.read_bytes() == body


def test_a_bad_name_writes_nothing(keyring_path):
    body = keyring_path.read_bytes()
    with pytest.raises(KeyFormatError):
        add_hub_identity(keyring_path, "bad\nname")
    assert keyring_path.read_bytes() == body


def test_adding_to_a_missing_keyring_is_refused(tmp_path):
    with pytest.raises(KeyringError, match="casehub keys init"):
        add_hub_identity(tmp_path / "none" / "keyring.json", "MY")


def test_a_malformed_hub_identity_makes_the_keyring_refused(keyring_path):
    identity = add_hub_identity(keyring_path, "MY")
    data = json.loads(keyring_path.read_text())
    data["federation"] = {**identity.to_json(), "name": "FR"}  # its fingerprint no longer fits
    keyring_path.write_text(json.dumps(data))
    with pytest.raises(KeyringError, match="malformed hub identity"):
        LocalKeyring.load(keyring_path)
