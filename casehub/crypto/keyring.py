"""Key providers: where root keys come from. The local keyring is a JSON file, mode 0600.

The file (format 1): {"format": 1, "active": <version>, "keys": {"<version>": "<b64 root key>"},
"signing": {"<key id>": "<b64 raw Ed25519 private key>"}, "signing_active": "<key id>",
"pending": [<version>, ...], "retired": [<version>, ...], "index": "<b64 index root>"}.
"signing", "signing_active" and "index" are optional, so keyrings written before receipts or
deconfliction still load; `add_signing_key_if_missing` and `add_index_key_if_missing` upgrade
such a file in place.

"index" is the root of the blind-index and match-token keys. It is not versioned with the root
keys: rotating it would mean recomputing every index from the decrypted values.

"pending" (optional, default empty) lists root-key versions that decrypt but do not yet
encrypt: key rotation adds a version as pending (`rotate_keyring`), every server is restarted
so it can unwrap under it, and only then is it made the active one (`activate_version`), so
no process ever meets a wrap it cannot open. `retire_version` removes a version for good and
records its number in "retired" (optional), so a later rotation never reuses it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from casehub.crypto.errors import KeyringError
from casehub.crypto.signing import ReceiptSigner

_FORMAT = 1
_KEY_BYTES = 32


class KeyProvider(Protocol):
    """What casehub needs from a key store; a KMS adapter implements the same methods."""

    @property
    def active_version(self) -> int:
        """The key-encryption-key version new wraps are made with."""

    @property
    def versions(self) -> list[int]:
        """Every version this provider can unwrap with (active and pending included), sorted."""

    @property
    def pending_versions(self) -> list[int]:
        """Versions that decrypt but are not yet used for new wraps, sorted."""

    def agency_kek(self, agency_id: UUID, version: int) -> bytes:
        """The 256-bit key-encryption key of one agency at one version."""

    def index_key(self, agency_id: UUID) -> bytes:
        """The agency's 256-bit blind-index key; KeyringError when the keyring has none."""

    def match_key(self) -> bytes:
        """The hub-wide 256-bit match-token key; KeyringError when the keyring has none."""

    def receipt_signer(self) -> ReceiptSigner:
        """The active Ed25519 key receipts are signed with; KeyringError when there is none."""

    def receipt_public_keys(self) -> dict[str, list[dict[str, str]]]:
        """A JWKS with the public halves of all signing keys, retired ones included."""


class LocalKeyring:
    """Root keys read from a local file; per-agency KEKs are derived from them with HKDF.

    signing_keys maps key ids to raw 32-byte Ed25519 private keys; each id must be the one
    derived from its key (see casehub.crypto.signing.key_id_for).
    """

    def __init__(
        self,
        root_keys: dict[int, bytes],
        active_version: int,
        signing_keys: Mapping[str, bytes] | None = None,
        signing_active: str | None = None,
        pending: Iterable[int] = (),
        index_root: bytes | None = None,
    ) -> None:
        if active_version not in root_keys:
            raise KeyringError("The keyring's active version has no key.")
        pending_versions = sorted(set(pending))
        if any(version not in root_keys for version in pending_versions):
            raise KeyringError("The keyring lists a pending version that has no key.")
        if active_version in pending_versions:
            raise KeyringError("The keyring's active version is also listed as pending.")
        signers: dict[str, ReceiptSigner] = {}
        for key_id, raw in (signing_keys or {}).items():
            if not isinstance(raw, bytes) or len(raw) != _KEY_BYTES:
                raise KeyringError("The keyring holds a signing key of the wrong length.")
            signer = ReceiptSigner.from_private_bytes(raw)
            if signer.key_id != key_id:
                raise KeyringError(f"Signing key id {key_id!r} does not match its key.")
            signers[key_id] = signer
        if signing_active is not None and signing_active not in signers:
            raise KeyringError("The keyring's active signing key id has no key.")
        if signers and signing_active is None:
            raise KeyringError("The keyring has signing keys but no active one.")
        if index_root is not None and len(index_root) != _KEY_BYTES:
            raise KeyringError("The keyring's index key has the wrong length.")
        self._root_keys = root_keys
        self._active = active_version
        self._kek_cache: dict[tuple[UUID, int], bytes] = {}
        self._signers = signers
        self._signing_active = signing_active
        self._pending = pending_versions
        self._index_root = index_root

    def __repr__(self) -> str:
        return (
            f"LocalKeyring(versions={sorted(self._root_keys)}, active={self._active}, "
            f"pending={self._pending}, index_key={self._index_root is not None}, "
            f"signing_keys={sorted(self._signers)}, signing_active={self._signing_active!r})"
        )

    @property
    def active_version(self) -> int:
        """The version new wraps use."""
        return self._active

    @property
    def versions(self) -> list[int]:
        """Every root-key version in the keyring, sorted."""
        return sorted(self._root_keys)

    @property
    def pending_versions(self) -> list[int]:
        """Versions added by a rotation that decrypt but are not active yet."""
        return list(self._pending)

    @property
    def has_index_key(self) -> bool:
        """Whether the keyring holds the root of the blind-index and match-token keys."""
        return self._index_root is not None

    def agency_kek(self, agency_id: UUID, version: int) -> bytes:
        """Derive (and cache) the agency's KEK for a root-key version."""
        cached = self._kek_cache.get((agency_id, version))
        if cached is not None:
            return cached
        root = self._root_keys.get(version)
        if root is None:
            raise KeyringError(f"Key version {version} is not in the keyring.")
        kek = _derive(root, b"casehub/agency-kek/v1/" + agency_id.bytes)
        self._kek_cache[(agency_id, version)] = kek
        return kek

    def index_key(self, agency_id: UUID) -> bytes:
        """Derive the agency's blind-index key from the index root."""
        return _derive(self._index_root_or_refuse(), b"casehub/blind-index/v1/" + agency_id.bytes)

    def match_key(self) -> bytes:
        """Derive the hub-wide match-token key from the index root."""
        return _derive(self._index_root_or_refuse(), b"casehub/match-token/v1")

    def _index_root_or_refuse(self) -> bytes:
        if self._index_root is None:
            raise KeyringError("The keyring has no index key: add one with `casehub keys init`.")
        return self._index_root

    def receipt_signer(self) -> ReceiptSigner:
        """The active receipt-signing key."""
        if self._signing_active is None:
            raise KeyringError(
                "The keyring has no receipt-signing key: add one with `casehub keys init`."
            )
        return self._signers[self._signing_active]

    def receipt_public_keys(self) -> dict[str, list[dict[str, str]]]:
        """A JWKS of every signing key's public half (sorted by key id), so old receipts verify."""
        return {"keys": [self._signers[kid].public_jwk() for kid in sorted(self._signers)]}

    @classmethod
    def load(cls, path: Path) -> LocalKeyring:
        """Read a keyring file, refusing one that group or others can read."""
        return cls._from_data(path, _read(path))

    @classmethod
    def _from_data(cls, path: Path, data: dict[str, Any]) -> LocalKeyring:
        try:
            if data.get("format") != _FORMAT:
                raise KeyringError(f"Keyring {path} has an unknown format.")
            keys = {int(v): base64.b64decode(k, validate=True) for v, k in data["keys"].items()}
            active = int(data["active"])
            pending = _pending_entries(data)
            index_root = base64.b64decode(data["index"], validate=True) if "index" in data else None
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyringError(f"Keyring {path} is malformed.") from exc
        if any(len(k) != _KEY_BYTES for k in keys.values()):
            raise KeyringError(f"Keyring {path} holds a key of the wrong length.")
        signing, signing_active = _signing_entries(path, data)
        if any(len(k) != _KEY_BYTES for k in signing.values()):
            raise KeyringError(f"Keyring {path} holds a signing key of the wrong length.")
        if index_root is not None and len(index_root) != _KEY_BYTES:
            raise KeyringError(f"Keyring {path} holds an index key of the wrong length.")
        return cls(keys, active, signing, signing_active, pending, index_root)


def _derive(root: bytes, info: bytes) -> bytes:
    """A 256-bit key for one purpose (named by `info`) from a root secret."""
    return HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=info).derive(root)


def _pending_entries(data: dict[str, Any]) -> list[int]:
    """The optional list of pending versions (TypeError when it is not a list of integers)."""
    raw = data.get("pending", [])
    if not isinstance(raw, list) or not all(
        isinstance(item, int) and not isinstance(item, bool) for item in raw
    ):
        raise TypeError("pending must be a list of integers")
    return list(raw)


def _signing_entries(path: Path, data: dict[str, Any]) -> tuple[dict[str, bytes], str | None]:
    """The optional signing keys and active signing key id of a keyring file's data."""
    if "signing" not in data and "signing_active" not in data:
        return {}, None
    entries, active = data.get("signing"), data.get("signing_active")
    if not isinstance(entries, dict) or not isinstance(active, str):
        raise KeyringError(f"Keyring {path} is malformed.")
    try:
        signing = {
            kid: base64.b64decode(key, validate=True)
            for kid, key in entries.items()
            if isinstance(key, str)
        }
    except ValueError as exc:
        raise KeyringError(f"Keyring {path} is malformed.") from exc
    if len(signing) != len(entries):
        raise KeyringError(f"Keyring {path} is malformed.")
    return signing, active


def _read(path: Path) -> dict[str, Any]:
    """The JSON object of a keyring file, refusing one that group or others can read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyringError(f"No keyring at {path}: create it with `casehub keys init`.") from None
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
    return data


def _new_signing_entry() -> tuple[str, str]:
    """A fresh Ed25519 private key as (key id, base64 of the raw 32 bytes)."""
    raw = os.urandom(_KEY_BYTES)
    return ReceiptSigner.from_private_bytes(raw).key_id, base64.b64encode(raw).decode()


def create_keyring(path: Path) -> bool:
    """Create a keyring with one fresh root key, a signing key and an index key, mode 0600.

    False, leaving the file alone, if one exists already.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    key_id, signing_key = _new_signing_entry()
    body = json.dumps(
        {
            "format": _FORMAT,
            "active": 1,
            "keys": {"1": base64.b64encode(os.urandom(_KEY_BYTES)).decode()},
            "signing": {key_id: signing_key},
            "signing_active": key_id,
            "index": base64.b64encode(os.urandom(_KEY_BYTES)).decode(),
        }
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(body)
    return True


@contextlib.contextmanager
def _directory_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on the keyring's directory, so two upgrades cannot race."""
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except FileNotFoundError:
        raise KeyringError(f"No keyring at {path}: create it with `casehub keys init`.") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _replace_atomically(path: Path, body: str) -> None:
    """Write body to a 0600 temporary file beside path, sync it, then rename it over path."""
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _add_if_missing(
    path: Path, present: Callable[[LocalKeyring], bool], add: Callable[[dict[str, Any]], None]
) -> bool:
    """Complete an existing keyring file with `add` unless `present`; True when it added.

    The file must already load (KeyringError otherwise, as for LocalKeyring.load). Everything
    else in it, root keys included, is kept as it is; the new file replaces the old one
    atomically and is mode 0600.
    """
    with _directory_lock(path):
        data = _read(path)
        if present(LocalKeyring._from_data(path, data)):
            return False
        add(data)
        _replace_atomically(path, json.dumps(data))
    return True


def _add_signing_entry(data: dict[str, Any]) -> None:
    key_id, signing_key = _new_signing_entry()
    data["signing"] = {key_id: signing_key}
    data["signing_active"] = key_id


def add_signing_key_if_missing(path: Path) -> bool:
    """Give an existing keyring a receipt-signing key if it has none; True when one was added."""
    return _add_if_missing(
        path, lambda keyring: bool(keyring.receipt_public_keys()["keys"]), _add_signing_entry
    )


def _add_index_entry(data: dict[str, Any]) -> None:
    data["index"] = base64.b64encode(os.urandom(_KEY_BYTES)).decode()


def add_index_key_if_missing(path: Path) -> bool:
    """Give an existing keyring a blind-index root key if it has none; True when one was added."""
    return _add_if_missing(path, lambda keyring: keyring.has_index_key, _add_index_entry)


def rotate_keyring(path: Path) -> int:
    """Add a fresh root key as the next version, decrypt-only (pending); returns its version.

    Restart (or roll) every server so it loads the new version, then make it active with
    `activate_version`. Refused while another version is still pending. The file is
    replaced atomically and stays mode 0600; everything else in it is kept.
    """
    with _directory_lock(path):
        data = _read(path)
        keyring = LocalKeyring._from_data(path, data)
        if keyring.pending_versions:
            raise KeyringError(
                f"Key version {keyring.pending_versions[0]} is already pending: activate it "
                "with `casehub keys rotate --activate` before rotating again."
            )
        # Never reuse a retired number: a version always names one key.
        retired = [v for v in data.get("retired", []) if isinstance(v, int)]
        version = max([*keyring.versions, *retired]) + 1
        data["keys"][str(version)] = base64.b64encode(os.urandom(_KEY_BYTES)).decode()
        data["pending"] = [version]
        _replace_atomically(path, json.dumps(data))
    return version


def activate_version(path: Path, version: int | None = None) -> int:
    """Make a version (by default the pending one) the one new wraps use; returns it.

    Only do this once every server has been restarted with a keyring that holds the version,
    or servers still running the old keyring could not unwrap the new wraps.
    """
    with _directory_lock(path):
        data = _read(path)
        keyring = LocalKeyring._from_data(path, data)
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
        _replace_atomically(path, json.dumps(data))
    return version


def retire_version(path: Path, version: int) -> None:
    """Remove a root-key version from the keyring for good; the active version is refused.

    Wraps still under the version become unreadable: the caller checks there are none.
    """
    with _directory_lock(path):
        data = _read(path)
        keyring = LocalKeyring._from_data(path, data)
        if version not in keyring.versions:
            raise KeyringError(f"Key version {version} is not in the keyring.")
        if version == keyring.active_version:
            raise KeyringError(f"Key version {version} is the active one and cannot be retired.")
        del data["keys"][str(version)]
        data["pending"] = [v for v in keyring.pending_versions if v != version]
        retired = [v for v in data.get("retired", []) if isinstance(v, int)]
        data["retired"] = sorted({*retired, version})
        _replace_atomically(path, json.dumps(data))
