"""The seeded data set, derived from numbers alone so every seeder and every check agrees on it.

Three owner agencies open the cases in turn and share each of them in FULL with the reader
agency, whose view of them is the cases page; the owners send the reader the cooperation
requests of its inbox, and the reader acknowledges every other one.
"""

from __future__ import annotations

from dataclasses import dataclass

from casehub.domain.enums import (
    AgencyKind,
    CaseCategory,
    HandlingCode,
    IdentifierKind,
    SubjectKind,
    Tlp,
)
from casehub.domain.identifiers import IdentifierInput


@dataclass(frozen=True, slots=True)
class AgencySpec:
    """An agency of the data set."""

    code: str
    name: str
    jurisdiction: str
    kind: AgencyKind


@dataclass(frozen=True, slots=True)
class SubjectSpec:
    """A subject of a case with its identifiers."""

    kind: SubjectKind
    name: str
    identifiers: tuple[IdentifierInput, ...]


@dataclass(frozen=True, slots=True)
class CaseSpec:
    """A case: which owner opens it, its fields and its subjects."""

    owner: int
    reference: str
    title: str
    summary: str
    category: CaseCategory
    tlp: Tlp
    handling: HandlingCode
    subjects: tuple[SubjectSpec, ...]


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """A cooperation request from an owner to the reader."""

    owner: int
    title: str
    body: str
    acknowledged: bool


OWNERS = (
    AgencySpec("BENCH-MY-POL", "Bench Malaysian Police", "MY", AgencyKind.LAW_ENFORCEMENT),
    AgencySpec("BENCH-MY-REG", "Bench Malaysian Regulator", "MY", AgencyKind.REGULATOR),
    AgencySpec("BENCH-SG-POL", "Bench Singapore Police", "SG", AgencyKind.LAW_ENFORCEMENT),
)
READER = AgencySpec("BENCH-FR-PROS", "Bench Paris Prosecutor", "FR", AgencyKind.PROSECUTOR)

_CATEGORIES = (
    CaseCategory.INVESTMENT_SCAM,
    CaseCategory.DRUG_TRAFFICKING,
    CaseCategory.ONLINE_GAMBLING,
    CaseCategory.MONEY_LAUNDERING,
    CaseCategory.CYBERCRIME,
)
_CODENAMES = ("Kestrel", "Monsoon", "Lantern", "Harbour", "Orchid", "Granite", "Tideway")
# Enough requests to fill an inbox page and say whether another follows; more with more cases.
_MIN_REQUESTS, _MAX_REQUESTS = 60, 1_000


def phone(number: int) -> IdentifierInput:
    """A Malaysian mobile number, one per case."""
    return IdentifierInput(IdentifierKind.PHONE, f"+6012{number % 10_000_000:07d}")


def case_spec(number: int) -> CaseSpec:
    """The case with this number (0 is the oldest)."""
    codename = _CODENAMES[number % len(_CODENAMES)]
    person = SubjectSpec(
        SubjectKind.PERSON,
        f"Suspect {number} (alias {codename})",
        (phone(number), IdentifierInput(IdentifierKind.EMAIL, f"suspect{number}@example.net")),
    )
    account = SubjectSpec(
        SubjectKind.ACCOUNT,
        f"Channel bench_channel_{number}",
        (
            IdentifierInput(
                IdentifierKind.MESSENGER_HANDLE, f"@bench_channel_{number}", platform="telegram"
            ),
            IdentifierInput(IdentifierKind.CRYPTO_WALLET, f"0x{number + 1:040x}", chain="ethereum"),
        ),
    )
    return CaseSpec(
        owner=number % len(OWNERS),
        reference=f"BENCH-{number:07d}",
        title=f"Operation {codename} {number}",
        summary=(
            f"Channel network {number} recruits victims into a fake trading platform; "
            "deposits are laundered through mule accounts and stablecoin wallets. "
            "Administrators operate from two jurisdictions; the platform holds subscriber data."
        ),
        category=_CATEGORIES[number % len(_CATEGORIES)],
        tlp=Tlp.AMBER if number % 2 else Tlp.GREEN,
        handling=HandlingCode.H1,
        subjects=(person, account),
    )


def request_count(cases: int) -> int:
    """How many cooperation requests go with this many cases."""
    return max(_MIN_REQUESTS, min(cases // 10, _MAX_REQUESTS))


def request_spec(number: int) -> RequestSpec:
    """The cooperation request with this number."""
    return RequestSpec(
        owner=number % len(OWNERS),
        title=f"Subscriber data for bench channel {number}",
        body=(
            f"Please provide the registration details and login IP addresses of channel "
            f"bench_channel_{number} for the last 90 days."
        ),
        acknowledged=number % 2 == 0,
    )


def hit_check_identifiers(cases: int) -> list[IdentifierInput]:
    """Twenty identifiers: ten held in seeded cases (hits), ten held nowhere (misses)."""
    held = []
    for k in range(10):
        spec = case_spec(k * cases // 10)
        kinds = [item for subject in spec.subjects for item in subject.identifiers]
        held.append(kinds[k % len(kinds)])
    unknown = [IdentifierInput(IdentifierKind.PHONE, f"+60139{k:06d}") for k in range(10)]
    return held + unknown
