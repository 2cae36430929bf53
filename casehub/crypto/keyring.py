"""Key providers: where root keys come from. The local keyring is a JSON file, mode 0600."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Protocol
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from casehub.crypto.errors import KeyringError

_FORMAT = 1
_KEY_BYTES = 32


class KeyProvider(Protocol):
    """What casehub needs from a key store; a KMS adapter implements the same methods."""

    @property
    def active_version(self) -> int:
        """The key-encryption-key version new wraps are made with."""

    def agency_kek(self, agency_id: UUID, version: int) -> bytes:
        """The 256-bit key-encryption key of one agency at one version."""


class LocalKeyring:
    """Root keys read from a local file; per-agency KEKs are derived from them with HKDF."""

    def __init__(self, root_keys: dict[int, bytes], active_version: int) -> None:
        if active_version not in root_keys:
            raise KeyringError("The keyring's active version has no key.")
        self._root_keys = root_keys
        self._active = active_version
        self._kek_cache: dict[tuple[UUID, int], bytes] = {}

    def __repr__(self) -> str:
        return f"LocalKeyring(versions={sorted(self._root_keys)}, active={self._active})"

    @property
    def active_version(self) -> int:
        """The version new wraps use."""
        return self._active

    def agency_kek(self, agency_id: UUID, version: int) -> bytes:
        """Derive (and cache) the agency's KEK for a root-key version."""
        cached = self._kek_cache.get((agency_id, version))
        if cached is not None:
            return cached
        root = self._root_keys.get(version)
        if root is None:
            raise KeyringError(f"Key version {version} is not in the keyring.")
        kek = HKDF(
            algorithm=hashes.SHA256(),
            length=_KEY_BYTES,
            salt=None,
            info=b"casehub/agency-kek/v1/" + agency_id.bytes,
        ).derive(root)
        self._kek_cache[(agency_id, version)] = kek
        return kek

    @classmethod
    def load(cls, path: Path) -> LocalKeyring:
        """Read a keyring file, refusing one that group or others can read."""
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise KeyringError(
                f"No keyring at {path}: create it with `casehub keys init`."
            ) from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(
                f"Keyring {path} is readable by group or others: run `chmod 600 {path}`."
            )
        try:
            data = json.loads(path.read_text("utf-8"))
        except OSError as exc:
            raise KeyringError(f"Keyring {path} cannot be read: {exc.strerror}.") from exc
        except ValueError as exc:
            raise KeyringError(f"Keyring {path} is malformed.") from exc
        if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
            raise KeyringError(f"Keyring {path} is malformed.")
        try:
            if data.get("format") != _FORMAT:
                raise KeyringError(f"Keyring {path} has an unknown format.")
            keys = {int(v): base64.b64decode(k, validate=True) for v, k in data["keys"].items()}
            active = int(data["active"])
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyringError(f"Keyring {path} is malformed.") from exc
        if any(len(k) != _KEY_BYTES for k in keys.values()):
            raise KeyringError(f"Keyring {path} holds a key of the wrong length.")
        return cls(keys, active)


def create_keyring(path: Path) -> bool:
    """Create a keyring with one fresh root key, mode 0600; False if one exists already."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = json.dumps(
        {
            "format": _FORMAT,
            "active": 1,
            "keys": {"1": base64.b64encode(os.urandom(_KEY_BYTES)).decode()},
        }
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(body)
    return True
