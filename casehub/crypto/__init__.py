"""Keys and ciphers: the only package that imports `cryptography`."""

from casehub.crypto.blind_index import blind_index, match_token
from casehub.crypto.envelope import DataKey, FieldContext, open_field, seal_field
from casehub.crypto.errors import DecryptionError, KeyringError
from casehub.crypto.keyring import LocalKeyring
from casehub.crypto.provider import KeyProvider
from casehub.crypto.rotation import (
    activate_version,
    add_accreditation_key_if_missing,
    add_index_key_if_missing,
    add_signing_key_if_missing,
    create_keyring,
    retire_version,
    rotate_keyring,
)
from casehub.crypto.signing import ReceiptSigner, key_id_for, verify_with_jwks
from casehub.crypto.tokens import hash_token, new_token
from casehub.crypto.wrapping import new_data_key, unwrap_data_key, wrap_data_key

__all__ = [
    "DataKey",
    "DecryptionError",
    "FieldContext",
    "KeyProvider",
    "KeyringError",
    "LocalKeyring",
    "ReceiptSigner",
    "activate_version",
    "add_accreditation_key_if_missing",
    "add_index_key_if_missing",
    "add_signing_key_if_missing",
    "blind_index",
    "create_keyring",
    "hash_token",
    "key_id_for",
    "match_token",
    "new_data_key",
    "new_token",
    "open_field",
    "retire_version",
    "rotate_keyring",
    "seal_field",
    "unwrap_data_key",
    "verify_with_jwks",
    "wrap_data_key",
]
