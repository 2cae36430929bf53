"""An agency's unshared case does not exist for any other agency: not readable, not listed,
not changeable, and never answered FORBIDDEN (which would confirm it exists)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.api.conftest import AgencyHandle, Api


@dataclass
class Hidden:
    """Agency A's case, populated and shared with C, and agency B who must not see it."""

    owner: AgencyHandle
    other: AgencyHandle
    case_id: str
    share_id: str
    subject_ids: list[str]
    identifier_ids: list[str]
    evidence_ids: list[str]
    custody_ids: list[str]

    @property
    def object_ids(self) -> list[str]:
        """Every id in the case, the case first."""
        return [
            self.case_id,
            *self.subject_ids,
            *self.identifier_ids,
            *self.evidence_ids,
            *self.custody_ids,
        ]


async def _hidden(api: Api) -> Hidden:
    owner, other, third = await api.agency("A"), await api.agency("B"), await api.agency("C")
    case = await api.open_case(owner.token)
    await api.populate(owner.token, case["id"])
    share_id = await api.shared(owner.token, case["id"], third.id)
    tree = await api.read_case(owner.token, case["id"])
    assert tree is not None
    subjects, items = tree["subjects"], tree["evidence"]
    return Hidden(
        owner=owner,
        other=other,
        case_id=case["id"],
        share_id=share_id,
        subject_ids=[subject["id"] for subject in subjects],
        identifier_ids=[ident["id"] for subject in subjects for ident in subject["identifiers"]],
        evidence_ids=[item["id"] for item in items],
        custody_ids=[event["id"] for item in items for event in item["custody"]],
    )


def _shape(tree: dict[str, Any] | None) -> dict[str, Any]:
    """What a write would change: the version and every count, as the owner reads them."""
    assert tree is not None
    return {
        "version": tree["version"],
        "title": tree["title"],
        "summary": tree["summary"],
        "tlp": tree["tlp"],
        "subjects": len(tree["subjects"]),
        "identifiers": sum(len(subject["identifiers"]) for subject in tree["subjects"]),
        "evidence": len(tree["evidence"]),
        "custody": sum(len(item["custody"]) for item in tree["evidence"]),
        "shares": sorted(
            (share["id"], share["scope"], share["active"]) for share in tree["shares"]
        ),
    }


async def test_node_is_null_for_the_case_and_everything_in_it(api: Api) -> None:
    hidden = await _hidden(api)
    assert len(hidden.object_ids) == 1 + 1 + 3 + 1 + 2
    for object_id in hidden.object_ids:
        assert await api.node(hidden.owner.token, object_id) is not None
        assert await api.node(hidden.other.token, object_id) is None, object_id
    # A single-role token of the other agency sees nothing more.
    for role in ("READER", "INVESTIGATOR", "AGENCY_ADMIN"):
        assert await api.node(hidden.other.tokens[role], hidden.case_id) is None
    # The share is the owner's to list; the other agency cannot fetch it either.
    assert await api.node(hidden.owner.token, hidden.share_id) is not None
    assert await api.node(hidden.other.token, hidden.share_id) is None


async def test_nodes_returns_null_in_place_of_invisible_objects(api: Api) -> None:
    hidden = await _hidden(api)
    own_case = await api.open_case(hidden.other.token)
    asked = [own_case["id"], *hidden.object_ids, hidden.share_id, hidden.owner.id]
    found = await api.nodes(hidden.other.token, asked)
    assert found == [
        {"__typename": "Case", "id": own_case["id"]},
        *[None] * (len(hidden.object_ids) + 1),
        {"__typename": "Agency", "id": hidden.owner.id},
    ]
    as_owner = await api.nodes(hidden.owner.token, asked)
    assert as_owner[0] is None
    assert [item and item["id"] for item in as_owner[1:]] == asked[1:]


_FILTERS: list[dict[str, Any] | None] = [
    None,
    {},
    {"owned": False},
    {"category": "FRAUD"},
    {"tlp": "AMBER"},
    {"status": "OPEN"},
    {"category": "FRAUD", "tlp": "AMBER", "status": "OPEN", "owned": False},
]


async def test_cases_list_omits_the_case_whatever_the_filter(api: Api) -> None:
    hidden = await _hidden(api)
    own_case = await api.open_case(hidden.other.token)
    for case_filter in _FILTERS:
        listed = await api.case_ids(hidden.other.token, case_filter)
        shows_own = case_filter is None or case_filter.get("owned") is not False
        assert listed == ([own_case["id"]] if shows_own else []), case_filter
        owner_filter = {**(case_filter or {}), "owned": True}
        assert await api.case_ids(hidden.owner.token, owner_filter) == [hidden.case_id]


def _attempts(hidden: Hidden) -> list[tuple[str, dict[str, Any]]]:
    """Every mutation the other agency might try on the hidden case, with valid input."""
    return [
        ("updateCase", {"id": hidden.case_id, "expectedVersion": 1, "title": "Taken over"}),
        ("updateCase", {"id": hidden.case_id, "expectedVersion": 99, "tlp": "AMBER_STRICT"}),
        (
            "addSubject",
            {
                "caseId": hidden.case_id,
                "kind": "PERSON",
                "displayName": "Planted",
                "identifiers": [{"kind": "PHONE", "value": "+60111111111"}],
            },
        ),
        (
            "addEvidence",
            {
                "caseId": hidden.case_id,
                "kind": "DOCUMENT",
                "title": "Planted",
                "contentBase64": "cGxhbnRlZA==",
            },
        ),
        (
            "recordCustodyEvent",
            {"evidenceId": hidden.evidence_ids[0], "action": "ACCESSED", "note": "peeked"},
        ),
        ("shareCase", {"caseId": hidden.case_id, "agencyId": hidden.other.id, "scope": "FULL"}),
        (
            "shareCase",
            {"caseId": hidden.case_id, "agencyId": hidden.owner.id, "scope": "METADATA"},
        ),
        ("revokeShare", {"shareId": hidden.share_id}),
    ]


async def test_every_mutation_answers_not_found_and_writes_nothing(api: Api) -> None:
    hidden = await _hidden(api)
    before = _shape(await api.read_case(hidden.owner.token, hidden.case_id))
    # READER lacks the roles of every one of them: still NOT_FOUND, never FORBIDDEN.
    for role in ("all", "READER"):
        token = hidden.other.tokens[role]
        for name, data in _attempts(hidden):
            payload = await api.mutate(token, name, data)
            assert payload["errors"][0]["code"] == "NOT_FOUND", (role, name, payload)
            assert len(payload["errors"]) == 1, payload
            # Nothing in the answer tells whether the case exists.
            assert hidden.case_id not in str(payload)
    assert _shape(await api.read_case(hidden.owner.token, hidden.case_id)) == before
    assert await api.read_case(hidden.other.token, hidden.case_id) is None


async def test_not_found_reads_exactly_like_a_case_that_never_existed(api: Api) -> None:
    hidden = await _hidden(api)
    # The hidden case, which is shared with a third agency, and a case of a fourth agency
    # nobody shares: the refusal is the same, code, field and message.
    stranger = await api.agency("S")
    elsewhere = await api.open_case(stranger.token)
    answers = []
    for case_id in (hidden.case_id, elsewhere["id"]):
        payload = await api.mutate(
            hidden.other.token,
            "updateCase",
            {"id": case_id, "expectedVersion": 1, "title": "x"},
        )
        answers.append(payload["errors"])
    assert answers[0] == answers[1]
    assert answers[0][0]["code"] == "NOT_FOUND"
