"""UUIDv7 identifiers: version, variant, embedded time and ordering (behaviour only)."""

from __future__ import annotations

import itertools
import threading
import time
import uuid

import pytest

from casehub.domain.ids import new_id


def test_new_id_is_a_uuid_version_7():
    value = new_id()
    assert isinstance(value, uuid.UUID)
    assert value.version == 7
    assert (value.int >> 76) & 0xF == 0x7
    assert str(value)[14] == "7"


def test_new_id_has_rfc_4122_variant():
    value = new_id()
    assert value.variant == uuid.RFC_4122
    assert (value.int >> 62) & 0b11 == 0b10
    assert str(value)[19] in "89ab"


@pytest.mark.parametrize("count", [1, 1_000])
def test_version_and_variant_hold_for_every_id(count):
    values = [new_id() for _ in range(count)]
    assert {v.version for v in values} == {7}
    assert {v.variant for v in values} == {uuid.RFC_4122}


def test_new_id_embeds_current_millisecond_time():
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= value.int >> 80 <= after


def test_new_ids_are_unique():
    values = {new_id() for _ in range(10_000)}
    assert len(values) == 10_000


def test_ids_sort_in_creation_order_across_milliseconds():
    created = []
    for _ in range(30):
        created.append(new_id())
        time.sleep(0.002)
    assert sorted(created) == created
    assert sorted(created, key=str) == created
    assert sorted(created, key=lambda u: u.bytes) == created
    stamps = [u.int >> 80 for u in created]
    assert all(a < b for a, b in itertools.pairwise(stamps))


def test_ids_created_after_a_sleep_sort_after_a_burst():
    burst = [new_id() for _ in range(500)]
    time.sleep(0.003)
    later = new_id()
    assert all(earlier < later for earlier in burst)


def test_ids_are_unique_across_threads():
    results: list[list[uuid.UUID]] = [[] for _ in range(8)]

    def work(bucket):
        bucket.extend(new_id() for _ in range(2_000))

    threads = [threading.Thread(target=work, args=(bucket,)) for bucket in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [u for bucket in results for u in bucket]
    assert len(set(every)) == len(every) == 16_000
    assert all(u.version == 7 for u in every)


def test_ids_in_a_tight_loop_are_strictly_increasing():
    # Many ids share one millisecond here; keyset pagination still needs creation order.
    created = [new_id() for _ in range(10_000)]
    assert all(a < b for a, b in itertools.pairwise(created))
