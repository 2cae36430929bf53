"""What casehub needs from a key store: the interface the local keyring and a KMS adapter share."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from casehub.crypto.agency_keys import AgencyPrivateKey
from casehub.crypto.hub_identity import HubIdentity
from casehub.crypto.signing import ReceiptSigner


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

    def accreditation_signer(self) -> AgencyPrivateKey:
        """The active hybrid key accreditations and revocations of agency keys are signed
        with; KeyringError when there is none."""

    def accreditation_public_keys(self) -> dict[str, list[dict[str, object]]]:
        """A JWKS ("kid": thumbprint) of every accreditation key's public half."""

    @property
    def has_hub_identity(self) -> bool:
        """Whether the key store holds this hub's federation identity."""

    def hub_identity(self) -> HubIdentity:
        """This hub's federation identity (hub id, name, signing and sealing keys);
        KeyringError when there is none (`casehub federation init` makes it)."""
