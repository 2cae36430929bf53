"""Blind indexes and match tokens: keyed digests from the keyring's index root, not a data key."""

from __future__ import annotations

import base64
import json
import os
import stat
import uuid

import pytest

from casehub.crypto import (
    KeyringError,
    LocalKeyring,
    add_index_key_if_missing,
    blind_index,
    create_keyring,
    match_token,
)
from casehub.domain.deconfliction.matching import match_material
from casehub.domain.enums import IdentifierKind
from casehub.domain.identifiers import IdentifierInput

ROOT = bytes(range(32))
INDEX = bytes(range(32, 64))
MY, FR = uuid.uuid4(), uuid.uuid4()


def material(kind: IdentifierKind, value: str, platform: str | None = None) -> bytes:
    item = IdentifierInput(kind, value, platform)
    return match_material(item, default_region="MY", field=["identifier"])


@pytest.fixture
def keys() -> LocalKeyring:
    return LocalKeyring({1: ROOT}, 1, index_root=INDEX)


def test_one_value_has_a_blind_index_per_agency_and_one_match_token(keys):
    value = material(IdentifierKind.PHONE, "012-345 6789")
    assert blind_index(keys, MY, value) != blind_index(keys, FR, value)
    assert match_token(keys, value) == match_token(keys, value)
    assert match_token(keys, value) not in (
        blind_index(keys, MY, value),
        blind_index(keys, FR, value),
    )


def test_a_phone_token_never_equals_a_handle_token_for_the_same_string(keys):
    text = "+60123456789"
    as_phone = match_token(keys, material(IdentifierKind.PHONE, text))
    as_handle = match_token(keys, material(IdentifierKind.MESSENGER_HANDLE, text, "telegram"))
    assert as_phone != as_handle


def test_the_digests_depend_on_the_index_root_only(keys):
    value = material(IdentifierKind.EMAIL, "boss@example.com")
    rotated_roots = LocalKeyring({1: ROOT, 2: os.urandom(32)}, 2, index_root=INDEX)
    other_index = LocalKeyring({1: ROOT}, 1, index_root=os.urandom(32))
    assert match_token(rotated_roots, value) == match_token(keys, value)
    assert blind_index(rotated_roots, MY, value) == blind_index(keys, MY, value)
    assert match_token(other_index, value) != match_token(keys, value)
    assert blind_index(other_index, MY, value) != blind_index(keys, MY, value)


def test_a_keyring_without_an_index_root_refuses_to_make_digests():
    keys = LocalKeyring({1: ROOT}, 1)
    with pytest.raises(KeyringError, match="keys init"):
        match_token(keys, b"x")
    with pytest.raises(KeyringError, match="keys init"):
        blind_index(keys, MY, b"x")


def test_an_index_root_of_the_wrong_length_is_refused(tmp_path):
    with pytest.raises(KeyringError):
        LocalKeyring({1: ROOT}, 1, index_root=INDEX[:16])
    path = tmp_path / "keyring.json"
    body = {"format": 1, "active": 1, "keys": {"1": base64.b64encode(ROOT).decode()}}
    body["index"] = base64.b64encode(INDEX[:31]).decode()
    path.write_text(json.dumps(body))
    path.chmod(0o600)
    with pytest.raises(KeyringError, match="index key"):
        LocalKeyring.load(path)


def test_new_keyrings_have_an_index_root_and_old_ones_gain_one(tmp_path):
    fresh = tmp_path / "new" / "keyring.json"
    assert create_keyring(fresh)
    assert LocalKeyring.load(fresh).has_index_key
    assert add_index_key_if_missing(fresh) is False

    old = tmp_path / "keyring.json"
    body = {"format": 1, "active": 1, "keys": {"1": base64.b64encode(ROOT).decode()}}
    old.write_text(json.dumps(body))
    old.chmod(0o600)
    assert not LocalKeyring.load(old).has_index_key

    assert add_index_key_if_missing(old) is True

    upgraded = json.loads(old.read_text())
    assert {key: value for key, value in upgraded.items() if key != "index"} == body
    assert len(base64.b64decode(upgraded["index"])) == 32
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert add_index_key_if_missing(old) is False
    assert json.loads(old.read_text()) == upgraded


def test_the_repr_says_whether_there_is_an_index_root_but_never_shows_it(keys):
    text = repr(keys)
    assert "index_key=True" in text
    assert base64.b64encode(INDEX).decode() not in text
    assert INDEX.hex() not in text
