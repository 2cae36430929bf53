"""Changes to a keyring file: create it, add what an older one lacks, rotate, activate and
retire root-key versions; each change replaces the file atomically and keeps it mode 0600."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from casehub.crypto.errors import KeyringError
from casehub.crypto.hub_identity import HubIdentity
from casehub.crypto.keyfile import (
    FORMAT,
    directory_lock,
    new_accreditation_entry,
    new_key_entry,
    new_signing_entry,
    read,
    replace_atomically,
)
from casehub.crypto.keyring import LocalKeyring


def create_keyring(path: Path) -> bool:
    """Create a keyring with one fresh root key, a signing key, an index key and an
    accreditation key, mode 0600.

    False, leaving the file alone, if one exists already.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    key_id, signing_key = new_signing_entry()
    thumbprint, accreditation_key = new_accreditation_entry()
    body = json.dumps(
        {
            "format": FORMAT,
            "active": 1,
            "keys": {"1": new_key_entry()},
            "signing": {key_id: signing_key},
            "signing_active": key_id,
            "index": new_key_entry(),
            "accreditation": {thumbprint: accreditation_key},
            "accreditation_active": thumbprint,
        }
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(body)
    return True


def _add_if_missing(
    path: Path, present: Callable[[LocalKeyring], bool], add: Callable[[dict[str, Any]], None]
) -> bool:
    """Complete an existing keyring file with `add` unless `present`; True when it added.

    The file must already load (KeyringError otherwise, as for LocalKeyring.load). Everything
    else in it, root keys included, is kept as it is; the new file replaces the old one
    atomically and is mode 0600.
    """
    with directory_lock(path):
        data = read(path)
        if present(LocalKeyring.from_data(path, data)):
            return False
        add(data)
        replace_atomically(path, json.dumps(data))
    return True


def _add_signing_entry(data: dict[str, Any]) -> None:
    key_id, signing_key = new_signing_entry()
    data["signing"] = {key_id: signing_key}
    data["signing_active"] = key_id


def add_signing_key_if_missing(path: Path) -> bool:
    """Give an existing keyring a receipt-signing key if it has none; True when one was added."""
    return _add_if_missing(
        path, lambda keyring: bool(keyring.receipt_public_keys()["keys"]), _add_signing_entry
    )


def _add_index_entry(data: dict[str, Any]) -> None:
    data["index"] = new_key_entry()


def add_index_key_if_missing(path: Path) -> bool:
    """Give an existing keyring a blind-index root key if it has none; True when one was added."""
    return _add_if_missing(path, lambda keyring: keyring.has_index_key, _add_index_entry)


def _add_accreditation_entry(data: dict[str, Any]) -> None:
    thumbprint, key = new_accreditation_entry()
    data["accreditation"] = {thumbprint: key}
    data["accreditation_active"] = thumbprint


def add_accreditation_key_if_missing(path: Path) -> bool:
    """Give an existing keyring the hub's accreditation key if it has none; True when one was
    added."""
    return _add_if_missing(
        path,
        lambda keyring: bool(keyring.accreditation_public_keys()["keys"]),
        _add_accreditation_entry,
    )


def add_hub_identity(path: Path, name: str) -> HubIdentity:
    """Give an existing keyring a fresh hub identity named `name` and return it.

    KeyFormatError for a bad name; KeyringError when the keyring already has one: peers pinned
    its fingerprint, so it is never replaced here (a new identity means re-peering by hand).
    """
    identity = HubIdentity.generate(name)

    def add(data: dict[str, Any]) -> None:
        data["federation"] = identity.to_json()

    if not _add_if_missing(path, lambda keyring: keyring.has_hub_identity, add):
        raise KeyringError(
            f"Keyring {path} already has a hub identity; it is never replaced, as peers pin it."
        )
    return identity


def rotate_keyring(path: Path) -> int:
    """Add a fresh root key as the next version, decrypt-only (pending); returns its version.

    Restart (or roll) every server so it loads the new version, then make it active with
    `activate_version`. Refused while another version is still pending. The file is
    replaced atomically and stays mode 0600; everything else in it is kept.
    """
    with directory_lock(path):
        data = read(path)
        keyring = LocalKeyring.from_data(path, data)
        if keyring.pending_versions:
            raise KeyringError(
                f"Key version {keyring.pending_versions[0]} is already pending: activate it "
                "with `casehub keys rotate --activate` before rotating again."
            )
        # Never reuse a retired number: a version always names one key.
        retired = [v for v in data.get("retired", []) if isinstance(v, int)]
        version = max([*keyring.versions, *retired]) + 1
        data["keys"][str(version)] = new_key_entry()
        data["pending"] = [version]
        replace_atomically(path, json.dumps(data))
    return version


def activate_version(path: Path, version: int | None = None) -> int:
    """Make a version (by default the pending one) the one new wraps use; returns it.

    Only do this once every server has been restarted with a keyring that holds the version,
    or servers still running the old keyring could not unwrap the new wraps.
    """
    with directory_lock(path):
        data = read(path)
        keyring = LocalKeyring.from_data(path, data)
        if version is None:
            if not keyring.pending_versions:
                raise KeyringError("No key version is pending: run `casehub keys rotate` first.")
            version = keyring.pending_versions[-1]
        if version not in keyring.versions:
            raise KeyringError(f"Key version {version} is not in the keyring.")
        if version == keyring.active_version:
            return version
        data["active"] = version
        data["pending"] = [v for v in keyring.pending_versions if v != version]
        replace_atomically(path, json.dumps(data))
    return version


def retire_version(path: Path, version: int) -> None:
    """Remove a root-key version from the keyring for good; the active version is refused.

    Wraps still under the version become unreadable: the caller checks there are none.
    """
    with directory_lock(path):
        data = read(path)
        keyring = LocalKeyring.from_data(path, data)
        if version not in keyring.versions:
            raise KeyringError(f"Key version {version} is not in the keyring.")
        if version == keyring.active_version:
            raise KeyringError(f"Key version {version} is the active one and cannot be retired.")
        del data["keys"][str(version)]
        data["pending"] = [v for v in keyring.pending_versions if v != version]
        retired = [v for v in data.get("retired", []) if isinstance(v, int)]
        data["retired"] = sorted({*retired, version})
        replace_atomically(path, json.dumps(data))
