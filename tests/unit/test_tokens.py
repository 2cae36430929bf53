"""API tokens: format, entropy and the stored hash."""

from __future__ import annotations

import hashlib
import re

import pytest

from casehub.crypto import hash_token, new_token
from casehub.crypto.tokens import PREFIX

URLSAFE = re.compile(r"[A-Za-z0-9_-]+")


def test_prefix():
    assert PREFIX == "chb_"
    assert new_token().startswith("chb_")


def test_token_has_at_least_256_bits_of_url_safe_randomness():
    for _ in range(200):
        token = new_token()
        body = token[len("chb_") :]
        assert len(body) >= 43
        assert URLSAFE.fullmatch(body)
        assert "=" not in token


def test_tokens_are_distinct():
    tokens = [new_token() for _ in range(5_000)]
    assert len(set(tokens)) == len(tokens)


def test_token_bodies_use_the_whole_alphabet():
    # A weak generator (e.g. hex only) would never produce upper-case letters, '-' or '_'.
    seen = set("".join(new_token()[4:] for _ in range(500)))
    assert len(seen) == 64


@pytest.mark.parametrize(
    ("token", "digest"),
    [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ],
)
def test_hash_token_known_vectors(token, digest):
    assert hash_token(token) == digest


@pytest.mark.parametrize("token", ["chb_abc", "chb_" + "A" * 43, "Bearer chb_x", "chb_ünï"])
def test_hash_token_is_sha256_hex_of_utf8(token):
    digest = hash_token(token)
    assert digest == hashlib.sha256(token.encode("utf-8")).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)


def test_hash_token_is_deterministic_and_distinguishes_tokens():
    token = new_token()
    assert hash_token(token) == hash_token(token)
    assert hash_token(token) == hash_token(str(token))
    assert hash_token(token) != hash_token(token + "x")
    assert hash_token(token) != hash_token(token.upper())
    assert token not in hash_token(token)


def test_hash_token_does_not_crash_on_lone_surrogates():
    # Attacker-controlled headers may carry odd code points; hashing must not raise.
    assert re.fullmatch(r"[0-9a-f]{64}", hash_token("chb_\udcff"))
