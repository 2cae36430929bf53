"""The local keyring: root keys from a file (casehub.crypto.keyfile), per-agency keys derived."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.crypto.errors import KeyringError
from casehub.crypto.hub_identity import HubIdentity
from casehub.crypto.keyfile import KEY_BYTES, parse, read
from casehub.crypto.signing import ReceiptSigner
from casehub.domain.signatures.keys import SigningAlgorithm


class LocalKeyring:
    """Root keys read from a local file; per-agency KEKs are derived from them with HKDF.

    signing_keys maps key ids to raw 32-byte Ed25519 private keys; each id must be the one
    derived from its key (see casehub.crypto.signing.key_id_for). accreditation_keys maps
    thumbprints to the hub's Ed25519+ML-DSA-65 accreditation keys.
    """

    def __init__(
        self,
        root_keys: dict[int, bytes],
        active_version: int,
        signing_keys: Mapping[str, bytes] | None = None,
        signing_active: str | None = None,
        pending: Iterable[int] = (),
        index_root: bytes | None = None,
        accreditation_keys: Mapping[str, AgencyPrivateKey] | None = None,
        accreditation_active: str | None = None,
        hub_identity: HubIdentity | None = None,
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
            if not isinstance(raw, bytes) or len(raw) != KEY_BYTES:
                raise KeyringError("The keyring holds a signing key of the wrong length.")
            signer = ReceiptSigner.from_private_bytes(raw)
            if signer.key_id != key_id:
                raise KeyringError(f"Signing key id {key_id!r} does not match its key.")
            signers[key_id] = signer
        if signing_active is not None and signing_active not in signers:
            raise KeyringError("The keyring's active signing key id has no key.")
        if signers and signing_active is None:
            raise KeyringError("The keyring has signing keys but no active one.")
        if index_root is not None and len(index_root) != KEY_BYTES:
            raise KeyringError("The keyring's index key has the wrong length.")
        accreditors = dict(accreditation_keys or {})
        _check_accreditation_keys(accreditors, accreditation_active)
        self._root_keys = root_keys
        self._active = active_version
        self._kek_cache: dict[tuple[UUID, int], bytes] = {}
        self._signers = signers
        self._signing_active = signing_active
        self._pending = pending_versions
        self._index_root = index_root
        self._accreditors = accreditors
        self._accreditation_active = accreditation_active
        self._hub_identity = hub_identity

    def __repr__(self) -> str:
        return (
            f"LocalKeyring(versions={sorted(self._root_keys)}, active={self._active}, "
            f"pending={self._pending}, index_key={self._index_root is not None}, "
            f"signing_keys={sorted(self._signers)}, signing_active={self._signing_active!r}, "
            f"accreditation_keys={sorted(self._accreditors)}, "
            f"accreditation_active={self._accreditation_active!r}, "
            f"hub={None if self._hub_identity is None else str(self._hub_identity.hub_id)!r})"
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

    def accreditation_signer(self) -> AgencyPrivateKey:
        """The active key that signs accreditations and revocations of agency keys."""
        if self._accreditation_active is None:
            raise KeyringError(
                "The keyring has no accreditation key: add one with `casehub keys init`."
            )
        return self._accreditors[self._accreditation_active]

    def accreditation_public_keys(self) -> dict[str, list[dict[str, object]]]:
        """A JWKS of every accreditation key's public half, "kid" its thumbprint (sorted), so
        accreditations signed by an older key still verify."""
        return {
            "keys": [
                {**self._accreditors[kid].public.to_jwk(), "kid": kid}
                for kid in sorted(self._accreditors)
            ]
        }

    @property
    def has_hub_identity(self) -> bool:
        """Whether the keyring holds this hub's federation identity."""
        return self._hub_identity is not None

    def hub_identity(self) -> HubIdentity:
        """This hub's federation identity (its id, name, signing and sealing keys)."""
        if self._hub_identity is None:
            raise KeyringError(
                "The keyring has no hub identity: create it with `casehub federation init`."
            )
        return self._hub_identity

    @classmethod
    def load(cls, path: Path) -> LocalKeyring:
        """Read a keyring file, refusing one that group or others can read."""
        return cls.from_data(path, read(path))

    @classmethod
    def from_data(cls, path: Path, data: dict[str, Any]) -> LocalKeyring:
        """The keyring a keyring file's JSON object holds; KeyringError when it is malformed."""
        return cls(*parse(path, data))


def _check_accreditation_keys(keys: Mapping[str, AgencyPrivateKey], active: str | None) -> None:
    """KeyringError unless every accreditation key is hybrid and named by its thumbprint, and
    the active one (required once there is any) is among them."""
    for thumbprint, key in keys.items():
        if not isinstance(key, AgencyPrivateKey):
            raise KeyringError("The keyring holds a malformed accreditation key.")
        if key.algorithm is not SigningAlgorithm.ED25519_ML_DSA_65:
            raise KeyringError("The keyring's accreditation keys must be Ed25519+ML-DSA-65.")
        if key.public.thumbprint != thumbprint:
            raise KeyringError(f"Accreditation key {thumbprint!r} does not match its key.")
    if active is not None and active not in keys:
        raise KeyringError("The keyring's active accreditation key has no key.")
    if keys and active is None:
        raise KeyringError("The keyring has accreditation keys but no active one.")


def _derive(root: bytes, info: bytes) -> bytes:
    """A 256-bit key for one purpose (named by `info`) from a root secret."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(root)
