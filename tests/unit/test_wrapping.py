"""Data-key wrapping under per-agency KEKs."""

from __future__ import annotations

import os
from uuid import UUID

import pytest

from casehub.crypto import (
    DataKey,
    DecryptionError,
    FieldContext,
    LocalKeyring,
    new_data_key,
    open_field,
    seal_field,
    unwrap_data_key,
    wrap_data_key,
)

MESSAGE = "The protected value could not be decrypted."
SCOPE = UUID("11111111-1111-7111-8111-111111111111")
AGENCY = UUID("55555555-5555-7555-8555-555555555555")
OTHER = UUID("66666666-6666-7666-8666-666666666666")
ROOTS = {1: bytes(range(32)), 2: bytes(range(100, 132))}


def keyring(active=1, roots=ROOTS):
    return LocalKeyring(dict(roots), active_version=active)


def unwrap(keys, blob, *, scope=SCOPE, generation=1, agency=AGENCY, version=1):
    return unwrap_data_key(
        keys, scope_id=scope, generation=generation, agency_id=agency, version=version, blob=blob
    )


def assert_opaque(call):
    with pytest.raises(DecryptionError) as info:
        call()
    assert type(info.value) is DecryptionError
    assert str(info.value) == MESSAGE
    assert info.value.__cause__ is None
    # No chained low-level exception shows up in a traceback either.
    assert info.value.__suppress_context__ or info.value.__context__ is None


def test_new_data_key():
    key = new_data_key(SCOPE)
    assert isinstance(key, DataKey)
    assert key.scope_id == SCOPE
    assert key.generation == 1
    assert len(key.secret) == 32
    assert new_data_key(SCOPE).secret != key.secret


@pytest.mark.parametrize("active", [1, 2])
def test_wrap_unwrap_round_trip(active):
    keys = keyring(active)
    key = new_data_key(SCOPE)
    version, blob = wrap_data_key(keys, key, AGENCY)
    assert version == active
    assert key.secret not in blob
    assert len(blob) == 12 + 32 + 16
    got = unwrap(keys, blob, version=version)
    assert got == key
    assert got.secret == key.secret
    ctx = FieldContext("case", "summary", SCOPE, AGENCY)
    assert open_field(got, ctx, seal_field(key, ctx, b"hello")) == b"hello"


def test_round_trip_keeps_generation():
    key = DataKey.of(SCOPE, 5, os.urandom(32))
    version, blob = wrap_data_key(keyring(), key, AGENCY)
    assert unwrap(keyring(), blob, generation=5, version=version) == key


def test_unwrap_with_a_fresh_keyring_from_the_same_roots():
    key = new_data_key(SCOPE)
    version, blob = wrap_data_key(keyring(), key, AGENCY)
    assert unwrap(keyring(), blob, version=version).secret == key.secret


def test_old_version_still_unwraps_after_rotation():
    key = new_data_key(SCOPE)
    v1, blob1 = wrap_data_key(keyring(active=1), key, AGENCY)
    rotated = keyring(active=2)
    v2, blob2 = wrap_data_key(rotated, key, AGENCY)
    assert (v1, v2) == (1, 2)
    assert unwrap(rotated, blob1, version=1).secret == key.secret
    assert unwrap(rotated, blob2, version=2).secret == key.secret


def test_wraps_differ_per_agency_and_per_call():
    key = new_data_key(SCOPE)
    blobs = {wrap_data_key(keyring(), key, AGENCY)[1] for _ in range(50)}
    blobs.add(wrap_data_key(keyring(), key, OTHER)[1])
    assert len(blobs) == 51


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"agency": OTHER}, id="other_agency"),
        pytest.param({"scope": OTHER}, id="other_scope"),
        pytest.param({"generation": 2}, id="other_generation"),
        pytest.param({"version": 2}, id="wrong_version_present_in_keyring"),
        pytest.param({"version": 3}, id="version_missing_from_keyring"),
        pytest.param({"version": 0}, id="version_zero"),
    ],
)
def test_unwrap_elsewhere_fails(changes):
    keys = keyring(active=1)
    version, blob = wrap_data_key(keys, new_data_key(SCOPE), AGENCY)
    assert version == 1
    assert_opaque(lambda: unwrap(keys, blob, **changes))


def test_unwrap_with_another_keyring_fails():
    version, blob = wrap_data_key(keyring(), new_data_key(SCOPE), AGENCY)
    stranger = LocalKeyring({1: os.urandom(32)}, active_version=1)
    assert_opaque(lambda: unwrap(stranger, blob, version=version))


def test_unwrap_with_other_agencys_wrap_fails():
    keys = keyring()
    key = new_data_key(SCOPE)
    _, other_blob = wrap_data_key(keys, key, OTHER)
    assert_opaque(lambda: unwrap(keys, other_blob, agency=AGENCY))


@pytest.mark.parametrize("position", range(12 + 32 + 16))
def test_flipped_byte_of_wrap_fails(position):
    keys = keyring()
    _, blob = wrap_data_key(keys, new_data_key(SCOPE), AGENCY)
    tampered = bytearray(blob)
    tampered[position] ^= 0x01
    assert_opaque(lambda: unwrap(keys, bytes(tampered)))


@pytest.mark.parametrize("length", [0, 1, 7, 11, 12, 27, 28, 59])
def test_truncated_wrap_fails(length):
    keys = keyring()
    _, blob = wrap_data_key(keys, new_data_key(SCOPE), AGENCY)
    assert_opaque(lambda: unwrap(keys, blob[:length]))
