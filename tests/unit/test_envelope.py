"""Field envelopes: round trips, binding to their place, tamper detection, no key leaks."""

from __future__ import annotations

import base64
import dataclasses
import os
from uuid import UUID

import pytest

from casehub.crypto import (
    DataKey,
    DecryptionError,
    FieldContext,
    LocalKeyring,
    open_field,
    seal_field,
)

MESSAGE = "The protected value could not be decrypted."
SCOPE = UUID("11111111-1111-7111-8111-111111111111")
ROW = UUID("22222222-2222-7222-8222-222222222222")
OWNER = UUID("33333333-3333-7333-8333-333333333333")
SECRET = bytes(range(32))
KEY = DataKey.of(SCOPE, 1, SECRET)
CTX = FieldContext(table="case", column="summary", row_id=ROW, owner_id=OWNER)
PLAINTEXT = b"victim lost RM 250,000"
HEADER = 2 + 1 + 1 + 16 + 4
NONCE = 12
TAG = 16


def assert_opaque(call):
    with pytest.raises(DecryptionError) as info:
        call()
    err = info.value
    assert type(err) is DecryptionError
    assert str(err) == MESSAGE
    assert err.args == (MESSAGE,)
    assert err.__cause__ is None
    # No chained low-level exception shows up in a traceback either.
    assert err.__suppress_context__ or err.__context__ is None
    return err


@pytest.mark.parametrize(
    "plaintext",
    [b"", b"x", PLAINTEXT, "Ünïcödé 案件".encode(), bytes(range(256)), os.urandom(100_000)],
    ids=["empty", "one", "text", "utf8", "all_bytes", "100k"],
)
def test_round_trip(plaintext):
    blob = seal_field(KEY, CTX, plaintext)
    assert len(blob) == HEADER + NONCE + len(plaintext) + TAG
    assert open_field(KEY, CTX, blob) == plaintext
    if len(plaintext) >= 8:
        assert plaintext not in blob


def test_header_layout():
    blob = seal_field(DataKey.of(SCOPE, 0x01020304, SECRET), CTX, b"x")
    assert blob[:2] == b"CH"
    assert blob[2] == 1
    assert blob[3] == 1
    assert blob[4:20] == SCOPE.bytes
    assert blob[20:24] == bytes([1, 2, 3, 4])


def test_opens_with_an_equal_but_separately_built_key_and_context():
    blob = seal_field(KEY, CTX, PLAINTEXT)
    key = DataKey.of(UUID(str(SCOPE)), 1, bytes(SECRET))
    ctx = FieldContext("case", "summary", UUID(str(ROW)), UUID(str(OWNER)))
    assert open_field(key, ctx, blob) == PLAINTEXT


OTHER = UUID("44444444-4444-7444-8444-444444444444")


@pytest.mark.parametrize(
    "moved",
    [
        pytest.param(dataclasses.replace(CTX, row_id=OTHER), id="other_row"),
        pytest.param(dataclasses.replace(CTX, column="title"), id="other_column"),
        pytest.param(dataclasses.replace(CTX, table="subject"), id="other_table"),
        pytest.param(dataclasses.replace(CTX, owner_id=OTHER), id="other_owner"),
        pytest.param(dataclasses.replace(CTX, row_id=OWNER, owner_id=ROW), id="row_owner_swapped"),
        pytest.param(dataclasses.replace(CTX, table="Case"), id="table_case"),
        pytest.param(dataclasses.replace(CTX, column="summary "), id="column_trailing_space"),
    ],
)
def test_ciphertext_moved_elsewhere_fails(moved):
    blob = seal_field(KEY, CTX, PLAINTEXT)
    assert_opaque(lambda: open_field(KEY, moved, blob))


def test_context_encoding_is_unambiguous():
    # The docstring promises an unambiguous byte form; "|" inside a name must not let two
    # different places share associated data.
    left = FieldContext("case|summary", "x", ROW, OWNER)
    right = FieldContext("case", "summary|x", ROW, OWNER)
    assert left.encode() != right.encode()
    blob = seal_field(KEY, left, PLAINTEXT)
    assert_opaque(lambda: open_field(KEY, right, blob))


@pytest.mark.parametrize(
    "other_key",
    [
        pytest.param(DataKey.of(SCOPE, 1, os.urandom(32)), id="other_secret"),
        pytest.param(DataKey.of(OTHER, 1, SECRET), id="other_scope"),
        pytest.param(DataKey.of(SCOPE, 2, SECRET), id="other_generation"),
        pytest.param(DataKey.of(OTHER, 2, os.urandom(32)), id="all_different"),
    ],
)
def test_wrong_data_key_fails(other_key):
    blob = seal_field(KEY, CTX, PLAINTEXT)
    assert_opaque(lambda: open_field(other_key, CTX, blob))


BLOB_LEN = HEADER + NONCE + len(PLAINTEXT) + TAG


def _region(i):
    if i < HEADER:
        return "header"
    if i < HEADER + NONCE:
        return "nonce"
    if i < BLOB_LEN - TAG:
        return "body"
    return "tag"


@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF], ids=["lsb", "msb", "all"])
@pytest.mark.parametrize("position", range(BLOB_LEN), ids=lambda i: f"{_region(i)}-{i}")
def test_every_flipped_byte_fails_opaquely(position, mask):
    blob = bytearray(seal_field(KEY, CTX, PLAINTEXT))
    assert len(blob) == BLOB_LEN
    blob[position] ^= mask
    assert_opaque(lambda: open_field(KEY, CTX, bytes(blob)))


def test_all_flip_failures_look_identical():
    blob = seal_field(KEY, CTX, PLAINTEXT)
    seen = set()
    for position in range(len(blob)):
        tampered = bytearray(blob)
        tampered[position] ^= 0x01
        err = assert_opaque(lambda t=tampered: open_field(KEY, CTX, bytes(t)))
        seen.add((type(err), str(err), err.args))
    assert seen == {(DecryptionError, MESSAGE, (MESSAGE,))}


@pytest.mark.parametrize("length", range(BLOB_LEN))
def test_truncated_blob_fails(length):
    blob = seal_field(KEY, CTX, PLAINTEXT)
    assert_opaque(lambda: open_field(KEY, CTX, blob[:length]))


@pytest.mark.parametrize("suffix", [b"\x00", b"extra bytes"])
def test_extended_blob_fails(suffix):
    blob = seal_field(KEY, CTX, PLAINTEXT)
    assert_opaque(lambda: open_field(KEY, CTX, blob + suffix))


@pytest.mark.parametrize(
    "junk",
    [b"", b"CH", b"\x00" * 100, b"CH\x01\x01" + b"\x00" * 60],
    ids=["empty", "magic_only", "zeros", "fake_header"],
)
def test_junk_fails(junk):
    assert_opaque(lambda: open_field(KEY, CTX, junk))


def test_ten_thousand_seals_use_distinct_nonces():
    blobs = [seal_field(KEY, CTX, b"same value") for _ in range(10_000)]
    nonces = {blob[HEADER : HEADER + NONCE] for blob in blobs}
    assert len(nonces) == 10_000
    assert len(set(blobs)) == 10_000
    assert all(len(n) == NONCE for n in nonces)


def test_decryption_error_message_does_not_leak_plaintext():
    blob = bytearray(seal_field(KEY, CTX, PLAINTEXT))
    blob[-1] ^= 1
    err = assert_opaque(lambda: open_field(KEY, CTX, bytes(blob)))
    assert PLAINTEXT.decode() not in repr(err)


def _forms(secret: bytes) -> list[str]:
    return [
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode(),
        base64.b64encode(secret).decode().rstrip("="),
        repr(secret),
        repr(secret)[2:-1],
    ]


# Ids, not the random bytes: every xdist worker must collect the same test names.
@pytest.mark.parametrize(
    "secret", [SECRET, os.urandom(32), b"\xab" * 32], ids=["fixed", "random", "repeated"]
)
def test_data_key_repr_hides_key_bytes(secret):
    key = DataKey.of(SCOPE, 3, secret)
    for text in (repr(key), str(key), f"{key!r}"):
        for form in _forms(secret):
            assert form not in text
    assert "secret" not in repr(key)
    assert str(SCOPE) in repr(key)


def test_local_keyring_repr_hides_root_and_derived_keys():
    roots = {1: os.urandom(32), 2: os.urandom(32)}
    keyring = LocalKeyring(roots, active_version=2)
    keks = [keyring.agency_kek(OWNER, 1), keyring.agency_kek(OWNER, 2)]
    text = repr(keyring) + str(keyring)
    for secret in [*roots.values(), *keks]:
        for form in _forms(secret):
            assert form not in text
    assert text.startswith("LocalKeyring(")
