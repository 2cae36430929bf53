"""The `federation.directory` payload (every malformed shape refused, as MALFORMED through
the table of message types) and the pure rules that reconcile a peer's directory with the
agencies this hub holds."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import rfc8785

from casehub.domain.enums import AgencyKind
from casehub.domain.federation.directory import (
    DIRECTORY,
    DIRECTORY_MAX_AGENCIES,
    Conflict,
    Directory,
    Known,
    Listing,
    Plan,
    Refusal,
    check_directory,
    directory_payload,
    is_newer,
    parse_directory,
    reconcile,
)
from casehub.domain.federation.envelopes import EnvelopeRefused, RefusalCode
from casehub.domain.federation.payloads import PAYLOAD_CHECKS, check_payload

ISSUED = "2026-12-05T10:00:00.250Z"
A = UUID("0193a0a0-0000-7000-8000-00000000000a")
B = UUID("0193a0a0-0000-7000-8000-00000000000b")
C = UUID("0193a0a0-0000-7000-8000-00000000000c")
PEER = UUID("0193a0a0-0000-7000-8000-0000000000f1")
OTHER = UUID("0193a0a0-0000-7000-8000-0000000000f2")


def entry(**overrides: Any) -> dict[str, Any]:
    return {
        "id": str(A),
        "code": "FR-PNF",
        "name": "Parquet national financier",
        "kind": "PROSECUTOR",
        "jurisdiction": "FR",
        "timezone": "Europe/Paris",
        **overrides,
    }


def payload(*entries: object, **overrides: Any) -> dict[str, Any]:
    return {"issuedAt": ISSUED, "agencies": list(entries), **overrides}


def without(members: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in members.items() if key != name}


MALFORMED: dict[str, tuple[Any, str]] = {
    "empty object": ({}, "member 'agencies'"),
    "no issuedAt": ({"agencies": []}, "member 'issuedAt'"),
    "no agencies": ({"issuedAt": ISSUED}, "member 'agencies'"),
    "unknown member": (payload(signingKeys=[]), "member 'signingKeys'"),
    "issuedAt without milliseconds": (
        payload(issuedAt="2026-12-05T10:00:00Z"),
        "member 'issuedAt'",
    ),
    "issuedAt with an offset": (
        payload(issuedAt="2026-12-05T10:00:00.000+00:00"),
        "member 'issuedAt'",
    ),
    "issuedAt not a day": (payload(issuedAt="2026-02-30T10:00:00.000Z"), "member 'issuedAt'"),
    "issuedAt a number": (payload(issuedAt=1764928800), "member 'issuedAt'"),
    "agencies an object": (payload(agencies={}), "member 'agencies'"),
    "agencies null": (payload(agencies=None), "member 'agencies'"),
    "entry not an object": (payload("FR-PNF"), "agencies[0] is not an object"),
    "entry null": (payload(None), "agencies[0] is not an object"),
    "entry missing id": (payload(without(entry(), "id")), "agencies[0] member 'id'"),
    "entry missing code": (payload(without(entry(), "code")), "agencies[0] member 'code'"),
    "entry missing name": (payload(without(entry(), "name")), "agencies[0] member 'name'"),
    "entry missing kind": (payload(without(entry(), "kind")), "agencies[0] member 'kind'"),
    "entry missing jurisdiction": (
        payload(without(entry(), "jurisdiction")),
        "agencies[0] member 'jurisdiction'",
    ),
    "entry missing timezone": (
        payload(without(entry(), "timezone")),
        "agencies[0] member 'timezone'",
    ),
    "entry unknown member": (payload(entry(url="https://x")), "agencies[0] member 'url'"),
    "id upper case": (payload(entry(id=str(A).upper())), "agencies[0] member 'id'"),
    "id not a uuid": (payload(entry(id="agency-1")), "agencies[0] member 'id'"),
    "id a number": (payload(entry(id=7)), "agencies[0] member 'id'"),
    "code lower case": (payload(entry(code="fr-pnf")), "agencies[0] member 'code'"),
    "code too long": (payload(entry(code="F" * 33)), "agencies[0] member 'code'"),
    "code one character": (payload(entry(code="F")), "agencies[0] member 'code'"),
    "name blank": (payload(entry(name="  ")), "agencies[0] member 'name'"),
    "name too long": (payload(entry(name="n" * 201)), "agencies[0] member 'name'"),
    "name with a control character": (
        payload(entry(name="Parquet\x07")),
        "agencies[0] member 'name'",
    ),
    "name with a bidi override": (
        payload(entry(name="Parquet \u202e")),
        "agencies[0] member 'name'",
    ),
    "name not text": (payload(entry(name=["P"])), "agencies[0] member 'name'"),
    "kind unknown": (payload(entry(kind="ARMY")), "agencies[0] member 'kind'"),
    "kind lower case": (payload(entry(kind="prosecutor")), "agencies[0] member 'kind'"),
    "jurisdiction unknown": (
        payload(entry(jurisdiction="XX")),
        "agencies[0] member 'jurisdiction'",
    ),
    "jurisdiction lower case": (
        payload(entry(jurisdiction="fr")),
        "agencies[0] member 'jurisdiction'",
    ),
    "timezone unknown": (payload(entry(timezone="Mars/Olympus")), "agencies[0] member 'timezone'"),
    "timezone a path": (
        payload(entry(timezone="../../etc/passwd")),
        "agencies[0] member 'timezone'",
    ),
    "second entry malformed": (
        payload(entry(), entry(id=str(B), code="FR-X", kind=None)),
        "agencies[1] member 'kind'",
    ),
    "repeated id": (payload(entry(), entry(code="FR-OTHER")), "agencies[1] repeats the id"),
    "repeated code": (payload(entry(), entry(id=str(B))), "agencies[1] repeats the code FR-PNF"),
    "too many agencies": (
        payload(
            *(entry(id=str(UUID(int=n)), code=f"FR-{n}") for n in range(DIRECTORY_MAX_AGENCIES + 1))
        ),
        f"lists more than {DIRECTORY_MAX_AGENCIES} agencies",
    ),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_a_malformed_directory_is_refused_naming_what(case: str) -> None:
    given, expected = MALFORMED[case]
    problem = check_directory(given)
    assert problem is not None
    assert expected in problem, problem
    with pytest.raises(EnvelopeRefused) as refused:
        check_payload(DIRECTORY, rfc8785.dumps(given))
    assert refused.value.code is RefusalCode.MALFORMED
    assert expected in refused.value.message


def test_the_type_is_in_the_table_of_message_types() -> None:
    assert PAYLOAD_CHECKS[DIRECTORY] is check_directory


WELL_FORMED = {
    "empty directory": payload(),
    "one agency": payload(entry()),
    "every kind": payload(
        *(
            entry(id=str(UUID(int=n + 1)), code=f"FR-{n}", kind=kind.value)
            for n, kind in enumerate(AgencyKind)
        )
    ),
    "international": payload(entry(jurisdiction="INT", timezone="UTC")),
    "name of 200 characters, any script": payload(entry(name="検" * 200)),
    "at the bound": payload(
        *(entry(id=str(UUID(int=n)), code=f"FR-{n}") for n in range(DIRECTORY_MAX_AGENCIES))
    ),
}


@pytest.mark.parametrize("case", WELL_FORMED, ids=list(WELL_FORMED))
def test_a_well_formed_directory_is_taken(case: str) -> None:
    given = WELL_FORMED[case]
    assert check_directory(given) is None
    assert check_payload(DIRECTORY, rfc8785.dumps(given)) == given


def test_the_payload_round_trips_through_its_values() -> None:
    given = payload(entry(), entry(id=str(B), code="FR-OCRGDF", kind="LAW_ENFORCEMENT"))
    parsed = parse_directory(given)
    assert parsed.issued_at == datetime(2026, 12, 5, 10, 0, 0, 250000, tzinfo=UTC)
    assert [listing.id for listing in parsed.agencies] == [A, B]
    assert directory_payload(ISSUED, parsed.agencies) == given
    # The bound leaves room in one payload even for names of 200 characters in 3 bytes each.
    largest = payload(
        *(
            entry(id=str(UUID(int=n)), code=f"FR-{n:04}-" + "X" * 24, name="検" * 200)
            for n in range(DIRECTORY_MAX_AGENCIES)
        )
    )
    assert len(rfc8785.dumps(largest)) > 512 * 1024  # the payload bound refuses it (TOO_LARGE)
    with pytest.raises(EnvelopeRefused) as refused:
        check_payload(DIRECTORY, rfc8785.dumps(largest))
    assert refused.value.code is RefusalCode.TOO_LARGE


def listing(agency_id: UUID, code: str = "FR-PNF", name: str = "Parquet") -> Listing:
    return Listing(agency_id, code, name, AgencyKind.PROSECUTOR, "FR", "Europe/Paris")


def known(item: Listing, hub: UUID | None = PEER, delisted: bool = False) -> Known:
    return Known(item, hub, delisted)


NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def directory(*items: Listing) -> Directory:
    return Directory(NOW, items)


A1, B1, C1 = listing(A, "FR-A"), listing(B, "FR-B"), listing(C, "FR-C")
RENAMED = listing(A, "FR-A", "Parquet renamed")

# name: (directory, every agency this hub holds, the plan expected)
RECONCILE: dict[str, tuple[Directory, list[Known], Plan]] = {
    "first directory: all new": (
        directory(A1, B1),
        [],
        Plan((A1, B1), (), (), ()),
    ),
    "the same again: nothing changes": (
        directory(A1, B1),
        [known(A1), known(B1)],
        Plan((), (), (), ()),
    ),
    "a member changed: updated": (
        directory(RENAMED, B1),
        [known(A1), known(B1)],
        Plan((), (RENAMED,), (), ()),
    ),
    "left out: delisted": (
        directory(B1),
        [known(A1), known(B1)],
        Plan((), (), (A,), ()),
    ),
    "left out and delisted already: unchanged": (
        directory(B1),
        [known(A1, delisted=True), known(B1)],
        Plan((), (), (), ()),
    ),
    "listed again after being delisted: updated": (
        directory(A1),
        [known(A1, delisted=True)],
        Plan((), (A1,), (), ()),
    ),
    "empty directory: everything delisted": (
        directory(),
        [known(A1), known(B1)],
        Plan((), (), (A, B), ()),
    ),
    "an id of this hub's own agency: refused": (
        directory(A1, C1),
        [known(A1, hub=None)],
        Plan((C1,), (), (), (Conflict(A1, Refusal.LOCAL_AGENCY),)),
    ),
    "an id another peer listed first: refused": (
        directory(A1),
        [known(A1, hub=OTHER)],
        Plan((), (), (), (Conflict(A1, Refusal.OTHER_HUB, OTHER),)),
    ),
    "a code another agency of the peer holds: refused": (
        directory(listing(C, "FR-A")),
        [known(A1, delisted=True)],
        Plan((), (), (), (Conflict(listing(C, "FR-A"), Refusal.CODE_TAKEN, PEER),)),
    ),
    "a local agency's code: taken (codes are per hub)": (
        directory(listing(C, "MY-PDRM")),
        [known(listing(A, "MY-PDRM"), hub=None)],
        Plan((listing(C, "MY-PDRM"),), (), (), ()),
    ),
    "another peer's code: taken": (
        directory(listing(C, "FR-A")),
        [known(A1, hub=OTHER)],
        Plan((listing(C, "FR-A"),), (), (), ()),
    ),
}


@pytest.mark.parametrize("case", RECONCILE, ids=list(RECONCILE))
def test_reconcile(case: str) -> None:
    given, held, expected = RECONCILE[case]
    wanted = {item.id for item in given.agencies}
    by_id = {k.listing.id: k for k in held if k.listing.id in wanted}
    of_peer = {k.listing.id: k for k in held if k.home_hub_id == PEER}
    assert reconcile(PEER, given, by_id, of_peer) == expected


def test_reconcile_does_not_change_its_inputs() -> None:
    held = {A: known(A1), B: known(B1)}
    before = copy.deepcopy(held)
    reconcile(PEER, directory(RENAMED), {A: held[A]}, held)
    assert held == before


NEWER: list[tuple[datetime, datetime | None, bool]] = [
    (NOW, None, True),
    (NOW, NOW - timedelta(milliseconds=1), True),
    (NOW, NOW, False),
    (NOW, NOW + timedelta(milliseconds=1), False),
    (NOW - timedelta(days=1), NOW, False),
]


@pytest.mark.parametrize(("issued", "last", "expected"), NEWER)
def test_only_a_newer_directory_replaces_the_last(
    issued: datetime, last: datetime | None, expected: bool
) -> None:
    assert is_newer(issued, last) is expected


def test_ids_are_unrelated_to_codes() -> None:
    # A directory entry is addressed by its id alone: the same code under a new id is a new
    # agency (refused here only when the peer's old one still holds the code).
    fresh = uuid4()
    plan = reconcile(PEER, directory(listing(fresh, "FR-B")), {}, {B: known(B1)})
    assert plan.conflicts == (Conflict(listing(fresh, "FR-B"), Refusal.CODE_TAKEN, PEER),)
    assert plan.delisted == (B,)
