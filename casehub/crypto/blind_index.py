"""Keyed digests of canonical identifiers: blind indexes (per agency) and match tokens (hub-wide).

Both are HMAC-SHA256 under keys derived from the keyring's index root, a secret of its own:
never a data key nor a key-encryption key, so neither the database nor a leaked data key lets
anyone test guesses against them.
"""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID

from casehub.crypto.provider import KeyProvider


def blind_index(keys: KeyProvider, agency_id: UUID, material: bytes) -> bytes:
    """The owner agency's blind index of an identifier: equal values, equal digests, per agency."""
    return hmac.new(keys.index_key(agency_id), material, hashlib.sha256).digest()


def match_token(keys: KeyProvider, material: bytes) -> bytes:
    """The cross-agency match token of an identifier: the same in every agency."""
    return hmac.new(keys.match_key(), material, hashlib.sha256).digest()
