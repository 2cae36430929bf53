"""Keyring file operations of key rotation: rotate (pending), activate, retire."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from uuid import UUID

import pytest

from casehub.crypto import (
    KeyringError,
    LocalKeyring,
    activate_version,
    create_keyring,
    new_data_key,
    retire_version,
    rotate_keyring,
    unwrap_data_key,
    wrap_data_key,
)

AGENCY = UUID("55555555-5555-7555-8555-555555555555")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    keyring = tmp_path / "keyring.json"
    assert create_keyring(keyring)
    return keyring


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_rotate_adds_a_pending_version_that_decrypts_but_does_not_encrypt(path: Path) -> None:
    before = json.loads(path.read_text())
    assert rotate_keyring(path) == 2
    data = json.loads(path.read_text())
    assert data["active"] == 1
    assert data["pending"] == [2]
    assert data["keys"]["1"] == before["keys"]["1"]
    assert data["signing"] == before["signing"]
    assert mode(path) == 0o600
    keyring = LocalKeyring.load(path)
    assert keyring.versions == [1, 2]
    assert keyring.pending_versions == [2]
    assert keyring.active_version == 1
    assert "pending=[2]" in repr(keyring)


def test_activate_switches_new_wraps_and_old_wraps_still_open(path: Path) -> None:
    key = new_data_key(AGENCY)
    old_version, old_blob = wrap_data_key(LocalKeyring.load(path), key, AGENCY)
    rotate_keyring(path)
    assert activate_version(path) == 2
    assert mode(path) == 0o600
    keyring = LocalKeyring.load(path)
    assert (keyring.active_version, keyring.pending_versions) == (2, [])
    version, blob = wrap_data_key(keyring, key, AGENCY)
    assert (old_version, version) == (1, 2)
    for v, b in ((old_version, old_blob), (version, blob)):
        opened = unwrap_data_key(
            keyring, scope_id=key.scope_id, generation=1, agency_id=AGENCY, version=v, blob=b
        )
        assert opened.secret == key.secret


def test_rotate_refuses_while_a_version_is_pending(path: Path) -> None:
    rotate_keyring(path)
    with pytest.raises(KeyringError, match="already pending"):
        rotate_keyring(path)


def test_activate_without_pending_is_refused(path: Path) -> None:
    with pytest.raises(KeyringError, match="No key version is pending"):
        activate_version(path)
    with pytest.raises(KeyringError, match="not in the keyring"):
        activate_version(path, 7)


def test_retire_refuses_the_active_version_and_removes_others(path: Path) -> None:
    rotate_keyring(path)
    activate_version(path)
    with pytest.raises(KeyringError, match="active"):
        retire_version(path, 2)
    retire_version(path, 1)
    assert mode(path) == 0o600
    keyring = LocalKeyring.load(path)
    assert keyring.versions == [2]
    with pytest.raises(KeyringError, match="not in the keyring"):
        retire_version(path, 1)
    with pytest.raises(KeyringError, match="not in the keyring"):
        keyring.agency_kek(AGENCY, 1)


def test_retired_numbers_are_never_reused(path: Path) -> None:
    rotate_keyring(path)
    retire_version(path, 2)  # a pending version withdrawn before it ever encrypted
    assert LocalKeyring.load(path).pending_versions == []
    assert rotate_keyring(path) == 3


def test_old_keyrings_without_pending_still_load(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    assert create_keyring(path)
    data = json.loads(path.read_text())
    assert "pending" not in data
    assert LocalKeyring.load(path).pending_versions == []


@pytest.mark.parametrize("pending", ["2", [True], [9], [1], {"2": 1}])
def test_malformed_pending_is_refused(path: Path, pending: object) -> None:
    data = json.loads(path.read_text())
    data["pending"] = pending
    path.write_text(json.dumps(data))
    with pytest.raises(KeyringError):
        LocalKeyring.load(path)


def test_rotation_refuses_a_world_readable_keyring(path: Path) -> None:
    path.chmod(0o644)
    with pytest.raises(KeyringError, match="chmod"):
        rotate_keyring(path)
