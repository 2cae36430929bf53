"""The local keyring file: its format, read safely, parsed, and replaced atomically under a lock.

The file (format 1): {"format": 1, "active": <version>, "keys": {"<version>": "<b64 root key>"},
"signing": {"<key id>": "<b64 raw Ed25519 private key>"}, "signing_active": "<key id>",
"pending": [<version>, ...], "retired": [<version>, ...], "index": "<b64 index root>",
"accreditation": {"<thumbprint>": <agency key file JSON>}, "accreditation_active": "<thumbprint>",
"federation": <hub key entry JSON>}.
"signing", "signing_active", "index", "accreditation", "accreditation_active" and "federation"
are optional, so keyrings written before receipts, deconfliction, agency signatures or
federation still load;
`add_signing_key_if_missing`, `add_index_key_if_missing` and
`add_accreditation_key_if_missing` (casehub.crypto.rotation) upgrade such a file in place.

"accreditation" holds the hub's Ed25519+ML-DSA-65 key that signs accreditations and
revocations of agency signing keys (casehub.crypto.agency_keys), in the agency key file's form.

"federation" holds the hub's identity for federation (casehub.crypto.hub_identity: hub id,
name, signing and sealing keys). It is only ever added, by `casehub federation init`
(`add_hub_identity`), never generated with the keyring: a hub that does not federate has none,
and replacing it would break every peer's pin.

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from casehub.crypto.agency_keys import AgencyPrivateKey, KeyFormatError
from casehub.crypto.errors import KeyringError
from casehub.crypto.hub_identity import HubIdentity
from casehub.crypto.signing import ReceiptSigner
from casehub.domain.signatures.keys import SigningAlgorithm

FORMAT = 1
KEY_BYTES = 32


class Contents(NamedTuple):
    """A keyring file's keys, in LocalKeyring's argument order."""

    root_keys: dict[int, bytes]
    active_version: int
    signing_keys: dict[str, bytes]
    signing_active: str | None
    pending: list[int]
    index_root: bytes | None
    accreditation_keys: dict[str, AgencyPrivateKey]
    accreditation_active: str | None
    hub_identity: HubIdentity | None


def parse(path: Path, data: dict[str, Any]) -> Contents:
    """The keys of a keyring file's JSON object; KeyringError when it is malformed."""
    try:
        if data.get("format") != FORMAT:
            raise KeyringError(f"Keyring {path} has an unknown format.")
        keys = {int(v): base64.b64decode(k, validate=True) for v, k in data["keys"].items()}
        active = int(data["active"])
        pending = _pending_entries(data)
        index_root = base64.b64decode(data["index"], validate=True) if "index" in data else None
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyringError(f"Keyring {path} is malformed.") from exc
    if any(len(k) != KEY_BYTES for k in keys.values()):
        raise KeyringError(f"Keyring {path} holds a key of the wrong length.")
    signing, signing_active = _signing_entries(path, data)
    if any(len(k) != KEY_BYTES for k in signing.values()):
        raise KeyringError(f"Keyring {path} holds a signing key of the wrong length.")
    if index_root is not None and len(index_root) != KEY_BYTES:
        raise KeyringError(f"Keyring {path} holds an index key of the wrong length.")
    accreditation, accreditation_active = _accreditation_entries(path, data)
    hub_identity = _federation_entry(path, data)
    return Contents(
        keys,
        active,
        signing,
        signing_active,
        pending,
        index_root,
        accreditation,
        accreditation_active,
        hub_identity,
    )


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


def _accreditation_entries(
    path: Path, data: dict[str, Any]
) -> tuple[dict[str, AgencyPrivateKey], str | None]:
    """The optional accreditation keys and active accreditation key of a keyring file's data."""
    if "accreditation" not in data and "accreditation_active" not in data:
        return {}, None
    entries, active = data.get("accreditation"), data.get("accreditation_active")
    if not isinstance(entries, dict) or not isinstance(active, str):
        raise KeyringError(f"Keyring {path} is malformed.")
    try:
        return {
            thumbprint: AgencyPrivateKey.from_json(entry) for thumbprint, entry in entries.items()
        }, active
    except KeyFormatError as exc:
        raise KeyringError(f"Keyring {path} holds a malformed accreditation key.") from exc


def _federation_entry(path: Path, data: dict[str, Any]) -> HubIdentity | None:
    """The optional hub identity of a keyring file's data."""
    if "federation" not in data:
        return None
    try:
        return HubIdentity.from_json(data["federation"])
    except KeyFormatError as exc:
        raise KeyringError(f"Keyring {path} holds a malformed hub identity: {exc}") from exc


def read(path: Path) -> dict[str, Any]:
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


def new_key_entry() -> str:
    """A fresh 256-bit key, base64 as the file holds it."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def new_signing_entry() -> tuple[str, str]:
    """A fresh Ed25519 private key as (key id, base64 of the raw 32 bytes)."""
    raw = os.urandom(KEY_BYTES)
    return ReceiptSigner.from_private_bytes(raw).key_id, base64.b64encode(raw).decode()


def new_accreditation_entry() -> tuple[str, dict[str, str]]:
    """A fresh hybrid accreditation key as (thumbprint, its key file JSON)."""
    key = AgencyPrivateKey.generate(SigningAlgorithm.ED25519_ML_DSA_65)
    return key.public.thumbprint, key.to_json()


@contextlib.contextmanager
def directory_lock(path: Path) -> Iterator[None]:
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


def replace_atomically(path: Path, body: str) -> None:
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
