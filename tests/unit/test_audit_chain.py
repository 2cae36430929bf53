"""The audit hash chain: link hashes and detection of edited, deleted or reordered links."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from uuid import UUID

import pytest

from casehub.domain.audit.chain import (
    GENESIS,
    Anchor,
    ChainCheck,
    Link,
    Verdict,
    link_hash,
)

CONTENTS = [{"action": "case.create", "actor": "u1", "outcome": "OK", "n": i} for i in range(1, 7)]


def first_broken(links):
    """The sequence number of the first link that does not follow from the one before."""
    check = ChainCheck()
    check.feed(links)
    return check.broken


def build(contents=CONTENTS, start_seq=1):
    links = []
    prev = GENESIS
    for offset, content in enumerate(contents):
        h = link_hash(content, prev)
        links.append(Link(seq=start_seq + offset, content=content, prev_hash=prev, hash=h))
        prev = h
    return links


def test_genesis_is_64_zeros():
    assert GENESIS == "0" * 64


def test_link_hash_matches_documented_construction():
    content = {"b": 2, "a": "é"}
    body = '{"content":{"a":"\\u00e9","b":2},"prev":"' + GENESIS + '"}'
    assert link_hash(content, GENESIS) == hashlib.sha256(body.encode("ascii")).hexdigest()


def test_link_hash_is_deterministic_and_key_order_independent():
    a = {"x": 1, "y": [1, 2], "z": {"q": None}}
    b = {"z": {"q": None}, "y": [1, 2], "x": 1}
    assert link_hash(a, GENESIS) == link_hash(a, GENESIS) == link_hash(b, GENESIS)
    assert len(link_hash(a, GENESIS)) == 64
    assert all(c in "0123456789abcdef" for c in link_hash(a, GENESIS))


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (({"a": 1}, GENESIS), ({"a": 2}, GENESIS)),
        (({"a": 1}, GENESIS), ({"a": "1"}, GENESIS)),
        (({"a": 1}, GENESIS), ({"b": 1}, GENESIS)),
        (({"a": 1}, GENESIS), ({"a": 1}, "1" + GENESIS[1:])),
        (({"a": 1}, GENESIS), ({"a": 1, "b": None}, GENESIS)),
        (({"a": [1, 2]}, GENESIS), ({"a": [2, 1]}, GENESIS)),
    ],
)
def test_link_hash_changes_with_content_or_prev(left, right):
    assert link_hash(*left) != link_hash(*right)


def test_link_hash_serialises_non_json_values():
    when = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    uid = UUID("01234567-89ab-7def-8123-456789abcdef")
    content = {"at": when, "object": uid}
    assert link_hash(content, GENESIS) == link_hash({"at": str(when), "object": str(uid)}, GENESIS)


@pytest.mark.parametrize("contents", [[], CONTENTS[:1], CONTENTS[:2], CONTENTS])
def test_intact_chain_is_not_broken(contents):
    assert first_broken(build(contents)) is None


def test_empty_chain_is_not_broken():
    assert first_broken([]) is None
    assert first_broken(iter([])) is None


def test_intact_chain_from_a_generator():
    assert first_broken(link for link in build()) is None


def _replace(links, index, **changes):
    out = list(links)
    out[index] = dataclasses.replace(out[index], **changes)
    return out


@pytest.mark.parametrize("index", range(len(CONTENTS)))
def test_edited_content_is_found(index):
    links = build()
    edited = {**links[index].content, "outcome": "DENIED"}
    assert first_broken(_replace(links, index, content=edited)) == links[index].seq


@pytest.mark.parametrize("index", range(len(CONTENTS)))
def test_edited_hash_is_found(index):
    links = build()
    bad = ("f" if links[index].hash[0] != "f" else "e") + links[index].hash[1:]
    assert first_broken(_replace(links, index, hash=bad)) == links[index].seq


@pytest.mark.parametrize("index", range(len(CONTENTS)))
def test_edited_prev_hash_is_found(index):
    links = build()
    assert first_broken(_replace(links, index, prev_hash="1" * 64)) == links[index].seq


@pytest.mark.parametrize("index", range(len(CONTENTS) - 1))
def test_edit_with_recomputed_hash_is_found_at_next_link(index):
    links = build()
    edited = {**links[index].content, "actor": "intruder"}
    rehashed = link_hash(edited, links[index].prev_hash)
    tampered = _replace(links, index, content=edited, hash=rehashed)
    assert first_broken(tampered) == links[index + 1].seq


@pytest.mark.parametrize(("i", "j"), [(0, 1), (1, 2), (2, 4), (0, 5), (4, 5)])
def test_reordered_links_are_found(i, j):
    links = build()
    swapped = list(links)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    assert first_broken(swapped) == swapped[i].seq


@pytest.mark.parametrize("index", range(1, len(CONTENTS) - 1))
def test_deleted_middle_link_is_found(index):
    links = build()
    remaining = links[:index] + links[index + 1 :]
    assert first_broken(remaining) == links[index + 1].seq


def test_deleted_first_link_is_found():
    links = build()
    assert first_broken(links[1:]) == links[1].seq


def test_chain_not_starting_at_genesis_is_broken():
    links = build(start_seq=10)
    forged = Link(seq=10, content=links[0].content, prev_hash="a" * 64, hash="")
    forged = dataclasses.replace(forged, hash=link_hash(forged.content, forged.prev_hash))
    assert first_broken([forged, *links[1:]]) == 10


def test_inserted_link_is_found():
    links = build()
    extra_content = {"action": "forged"}
    extra = Link(
        seq=99,
        content=extra_content,
        prev_hash=links[1].hash,
        hash=link_hash(extra_content, links[1].hash),
    )
    assert first_broken([*links[:2], extra, *links[2:]]) == links[2].seq


def test_link_hash_content_is_json_canonical():
    content = {"k": "v"}
    expected = json.dumps(
        {"content": content, "prev": GENESIS}, sort_keys=True, separators=(",", ":")
    )
    assert link_hash(content, GENESIS) == hashlib.sha256(expected.encode()).hexdigest()


# Anchors and verification in batches


def _check(links, anchor=None, batch=2):
    check = ChainCheck(anchor)
    for start in range(0, len(links), batch):
        if not check.feed(links[start : start + batch]):
            break
    return check.verdict()


def test_anchor_round_trips_through_its_text():
    anchor = Anchor(42, "ab" * 32)
    assert str(anchor) == "42:" + "ab" * 32
    assert Anchor.parse(str(anchor)) == anchor
    assert Anchor.parse(f"  42:{'AB' * 32}\n") == anchor


@pytest.mark.parametrize(
    "text",
    [
        "",
        "42",
        "42:",
        ":" + "a" * 64,
        "x:" + "a" * 64,
        "-1:" + "a" * 64,
        "4 2:" + "a" * 64,
        "42:" + "a" * 63,
        "42:" + "a" * 65,
        "42:" + "g" * 64,
        "42:" + "a" * 64 + ":1",
        "٤٢:" + "a" * 64,
    ],
)
def test_malformed_anchors_are_refused(text):
    with pytest.raises(ValueError, match="SEQ:HASH"):
        Anchor.parse(text)


@pytest.mark.parametrize("batch", [1, 2, 5, 100])
def test_verdict_of_an_intact_chain_names_its_head(batch):
    links = build()
    verdict = _check(links, batch=batch)
    assert verdict == Verdict(len(links), Anchor(links[-1].seq, links[-1].hash))
    assert verdict.intact


def test_verdict_of_an_empty_chain():
    assert _check([]) == Verdict(0, None)


@pytest.mark.parametrize("batch", [1, 2, 4])
def test_a_break_in_a_later_batch_is_found_and_feeding_stops(batch):
    links = _replace(build(), 4, prev_hash="1" * 64)
    verdict = _check(links, batch=batch)
    assert (verdict.broken, verdict.checked, verdict.head) == (5, 4, Anchor(4, links[3].hash))
    assert verdict.problem == (
        "event 5 does not follow from the one before it "
        "(an event was edited, inserted, deleted or reordered)"
    )
    check = ChainCheck()
    assert check.feed(links[:4]) is True
    assert check.feed(links[4:]) is False


@pytest.mark.parametrize("index", range(len(CONTENTS)))
def test_every_link_of_an_intact_chain_is_a_good_anchor(index):
    links = build()
    anchor = Anchor(links[index].seq, links[index].hash)
    assert _check(links, anchor).intact


def test_a_cut_off_end_is_found_only_with_an_anchor():
    links = build()
    anchor = Anchor(links[-1].seq, links[-1].hash)
    assert _check(links[:3]).intact
    verdict = _check(links[:3], anchor)
    assert (verdict.intact, verdict.broken, verdict.checked) == (False, None, 3)
    assert verdict.problem == (
        "the chain ends at event 3, before the anchored event 6: events were deleted from its end"
    )
    emptied = _check([], anchor)
    assert emptied.problem == (
        "the chain is empty, before the anchored event 6: events were deleted from its end"
    )


def _rechain(contents, seqs):
    links, prev = [], GENESIS
    for seq, content in zip(seqs, contents, strict=True):
        digest = link_hash(content, prev)
        links.append(Link(seq=seq, content=content, prev_hash=prev, hash=digest))
        prev = digest
    return links


def test_a_chain_rewritten_with_fresh_hashes_fails_at_the_anchor():
    links = build()
    anchor = Anchor(links[4].seq, links[4].hash)
    contents = [dict(link.content) for link in links]
    contents[1]["outcome"] = "FORBIDDEN"
    rewritten = _rechain(contents, [link.seq for link in links])
    assert first_broken(rewritten) is None
    verdict = _check(rewritten, anchor)
    assert (verdict.broken, verdict.checked) == (5, 4)
    assert (
        verdict.problem == f"event 5 does not match the anchor {anchor} (the chain was rewritten)"
    )


def test_a_rewritten_chain_without_the_anchored_link_fails_after_its_place():
    links = build()
    anchor = Anchor(links[2].seq, links[2].hash)
    kept = [link for link in links if link.seq != 3]
    rewritten = _rechain([link.content for link in kept], [link.seq for link in kept])
    verdict = _check(rewritten, anchor)
    assert (verdict.broken, verdict.checked) == (4, 2)
    assert verdict.problem == "the anchored event 3 is missing (the chain was rewritten)"


def test_an_anchor_is_checked_once_later_links_pass():
    links = build()
    anchor = Anchor(links[1].seq, links[1].hash)
    check = ChainCheck(anchor)
    assert check.feed(links[:2]) is True
    assert check.feed(links[2:]) is True
    assert check.verdict().intact
