"""Data keys: one random 256-bit key per case, stored only wrapped under agencies' KEKs."""

from __future__ import annotations

import os
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from casehub.crypto.envelope import DataKey
from casehub.crypto.errors import DecryptionError, KeyringError
from casehub.crypto.provider import KeyProvider

_NONCE_BYTES = 12


def _wrap_aad(scope_id: UUID, generation: int, agency_id: UUID, version: int) -> bytes:
    return b"casehub/wrap/v1|%s|%d|%s|%d" % (
        scope_id.bytes,
        generation,
        agency_id.bytes,
        version,
    )


def new_data_key(scope_id: UUID) -> DataKey:
    """A fresh random data key for a case (generation 1)."""
    return DataKey.of(scope_id, 1, os.urandom(32))


def wrap_data_key(keys: KeyProvider, key: DataKey, agency_id: UUID) -> tuple[int, bytes]:
    """Wrap a data key for one agency under its active KEK; returns (kek version, blob)."""
    version = keys.active_version
    nonce = os.urandom(_NONCE_BYTES)
    aad = _wrap_aad(key.scope_id, key.generation, agency_id, version)
    blob = nonce + AESGCM(keys.agency_kek(agency_id, version)).encrypt(nonce, key.secret, aad)
    return version, blob


def unwrap_data_key(
    keys: KeyProvider,
    *,
    scope_id: UUID,
    generation: int,
    agency_id: UUID,
    version: int,
    blob: bytes,
) -> DataKey:
    """Unwrap one agency's wrap of a data key; a wrap from another place fails opaquely."""
    try:
        kek = keys.agency_kek(agency_id, version)
    except KeyringError:
        raise DecryptionError from None
    aad = _wrap_aad(scope_id, generation, agency_id, version)
    try:
        secret = AESGCM(kek).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], aad)
    except (InvalidTag, ValueError):
        raise DecryptionError from None
    return DataKey.of(scope_id, generation, secret)
