"""API tokens: 256 random bits, shown once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "chb_"


def new_token() -> str:
    """A new bearer token; the prefix lets secret scanners recognise leaked ones."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token: a high-entropy secret needs no slow hash."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
