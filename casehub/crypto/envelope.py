"""Field envelopes: AES-256-GCM with a self-describing header bound into the associated data.

Layout: magic "CH" | format (1) | algorithm (1) | key scope id (16) | key generation (4, big
endian) | nonce (12) | ciphertext and tag. The associated data is the header followed by the
table, column, row id and owner id, so a ciphertext moved to another place never opens.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from casehub.crypto.errors import DecryptionError

_MAGIC = b"CH"
_FORMAT = 1
_ALG_AES256_GCM = 1
_HEADER = struct.Struct(">2sBB16sI")
_NONCE_BYTES = 12


@dataclass(frozen=True, slots=True)
class FieldContext:
    """Where a ciphertext lives; it is authenticated with the ciphertext."""

    table: str
    column: str
    row_id: UUID
    owner_id: UUID

    def encode(self) -> bytes:
        """A canonical, unambiguous byte form: length-prefixed names, then the two ids."""
        table, column = self.table.encode(), self.column.encode()
        return b"".join(
            (
                len(table).to_bytes(2, "big"),
                table,
                len(column).to_bytes(2, "big"),
                column,
                self.row_id.bytes,
                self.owner_id.bytes,
            )
        )


@dataclass(frozen=True, slots=True)
class DataKey:
    """An unwrapped data key; its bytes never appear in repr."""

    scope_id: UUID
    generation: int
    secret: bytes = field(repr=False)
    aead: AESGCM = field(repr=False, compare=False)

    @classmethod
    def of(cls, scope_id: UUID, generation: int, secret: bytes) -> DataKey:
        """Build a data key with its cipher ready."""
        return cls(scope_id, generation, secret, AESGCM(secret))


def seal_field(key: DataKey, context: FieldContext, plaintext: bytes) -> bytes:
    """Encrypt one field value for one place."""
    header = _HEADER.pack(_MAGIC, _FORMAT, _ALG_AES256_GCM, key.scope_id.bytes, key.generation)
    nonce = os.urandom(_NONCE_BYTES)
    return header + nonce + key.aead.encrypt(nonce, plaintext, header + context.encode())


def open_field(key: DataKey, context: FieldContext, blob: bytes) -> bytes:
    """Decrypt one field value; any mismatch raises the one opaque DecryptionError."""
    size = _HEADER.size
    if len(blob) < size + _NONCE_BYTES + 16:
        raise DecryptionError
    magic, fmt, alg, scope, generation = _HEADER.unpack_from(blob)
    if (
        magic != _MAGIC
        or fmt != _FORMAT
        or alg != _ALG_AES256_GCM
        or scope != key.scope_id.bytes
        or generation != key.generation
    ):
        raise DecryptionError
    header = blob[:size]
    nonce = blob[size : size + _NONCE_BYTES]
    try:
        return key.aead.decrypt(nonce, blob[size + _NONCE_BYTES :], header + context.encode())
    except InvalidTag:
        raise DecryptionError from None
