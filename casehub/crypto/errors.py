"""The crypto package's errors; DecryptionError is deliberately opaque."""

from __future__ import annotations


class DecryptionError(Exception):
    """Any failure to open a ciphertext or a key wrap; never says which check failed."""

    def __init__(self) -> None:
        super().__init__("The protected value could not be decrypted.")


class KeyringError(Exception):
    """The keyring is missing, unreadable, too widely readable or malformed."""
