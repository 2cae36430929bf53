"""Helpers for the API tests: GraphQL documents for the case operations, bound to `gql`."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pytest

from tests.request_support import Requests

_PAYLOADS: dict[str, tuple[str, str]] = {
    "registerAgency": ("RegisterAgencyInput", "agency { id code }"),
    "openCase": ("OpenCaseInput", "case { id version summary viewerAccess }"),
    "updateCase": (
        "UpdateCaseInput",
        "case { id version title summary category status tlp handlingCode }",
    ),
    "addSubject": ("AddSubjectInput", "subject { id }"),
    "addEvidence": ("AddEvidenceInput", "evidence { id sha256 }"),
    "recordCustodyEvent": ("RecordCustodyEventInput", "custodyEvent { id }"),
    "shareCase": ("ShareCaseInput", "share { id scope active expiresAt }"),
    "revokeShare": ("RevokeShareInput", "share { id active revokedAt }"),
}

CASE_TREE = """
id reference title category status tlp handlingCode version viewerAccess summary
owner { id code }
subjects { id kind displayName identifiers { id kind platform chain value } }
evidence { id title sha256 viewerAccess description contentBase64 custody { id action note } }
shares { id scope active }
"""

_references = itertools.count(1)


@dataclass(frozen=True)
class Sample:
    """What `open_case` and `populate` store in clear and encrypted fields."""

    summary: str = "Investment scam run through a Telegram channel"
    display_name: str = "Tan Ah Kow"
    phone: str = "+60123456789"
    handle: str = "@goldprofits_vip"
    wallet: str = "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"
    evidence_title: str = "Chat export"
    evidence_description: str = "Victim's export of the channel"
    content_base64: str = "aGVsbG8gZXZpZGVuY2U="  # "hello evidence"
    custody_note: str = "Sealed in bag 7"


class AgencyHandle(Protocol):
    """An agency of `world`: its global id, code and tokens by role set."""

    id: str
    code: str
    tokens: dict[str, str]

    @property
    def token(self) -> str: ...


GraphQLCall = Callable[..., Awaitable[dict[str, Any]]]


class Api:
    """The case operations as GraphQL over HTTP, for tests that need them repeatedly."""

    sample = Sample()

    def __init__(self, world: Any, gql: GraphQLCall) -> None:
        self.world = world
        self.gql = gql

    @staticmethod
    def in_seconds(seconds: float) -> str:
        """An ISO-8601 UTC instant this many seconds from now (negative: in the past)."""
        return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()

    @staticmethod
    def error_code(payload: dict[str, Any]) -> str:
        """The code of a refused mutation's single error (its object must be null)."""
        assert len(payload["errors"]) == 1, payload
        assert all(value is None for key, value in payload.items() if key != "errors"), payload
        code: str = payload["errors"][0]["code"]
        return code

    async def agency(self, prefix: str = "T") -> AgencyHandle:
        """A new agency with its tokens."""
        agency: AgencyHandle = await self.world.agency(prefix)
        return agency

    async def mutate(self, token: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
        """Run one mutation with `data` as its input; returns its payload."""
        input_type, selection = _PAYLOADS[name]
        document = (
            f"mutation($input: {input_type}!) {{ {name}(input: $input) "
            f"{{ {selection} errors {{ code field message }} }} }}"
        )
        body = await self.gql(token, document, {"input": data})
        assert "errors" not in body, body
        payload: dict[str, Any] = body["data"][name]
        return payload

    async def open_case(self, token: str, **fields: Any) -> dict[str, Any]:
        """Open a case (FRAUD, AMBER unless given); returns {id version summary viewerAccess}."""
        data = {
            "reference": f"REF-{next(_references)}",
            "title": "Operation Gold Channel",
            "summary": self.sample.summary,
            "category": "FRAUD",
            **fields,
        }
        payload = await self.mutate(token, "openCase", data)
        assert payload["errors"] == [], payload
        case: dict[str, Any] = payload["case"]
        return case

    async def populate(self, token: str, case_id: str) -> None:
        """Add a subject with three identifiers and an evidence item with a custody note."""
        subject = await self.mutate(
            token,
            "addSubject",
            {
                "caseId": case_id,
                "kind": "PERSON",
                "displayName": self.sample.display_name,
                "identifiers": [
                    {"kind": "PHONE", "value": self.sample.phone},
                    {
                        "kind": "MESSENGER_HANDLE",
                        "value": self.sample.handle,
                        "platform": "telegram",
                    },
                    {"kind": "CRYPTO_WALLET", "value": self.sample.wallet, "chain": "tron"},
                ],
            },
        )
        assert subject["errors"] == [], subject
        item = await self.mutate(
            token,
            "addEvidence",
            {
                "caseId": case_id,
                "kind": "CHAT_LOG",
                "title": self.sample.evidence_title,
                "description": self.sample.evidence_description,
                "contentBase64": self.sample.content_base64,
                "mediaType": "text/plain",
            },
        )
        assert item["errors"] == [], item
        custody = await self.mutate(
            token,
            "recordCustodyEvent",
            {
                "evidenceId": item["evidence"]["id"],
                "action": "SEALED",
                "note": self.sample.custody_note,
            },
        )
        assert custody["errors"] == [], custody

    async def share(
        self,
        token: str,
        case_id: str,
        agency_id: str,
        scope: str = "FULL",
        expires_at: str | None = None,
    ) -> dict[str, Any]:
        """Share a case; the refusal or the share's payload."""
        return await self.mutate(
            token,
            "shareCase",
            {"caseId": case_id, "agencyId": agency_id, "scope": scope, "expiresAt": expires_at},
        )

    async def shared(
        self, token: str, case_id: str, agency_id: str, scope: str = "FULL", **extra: Any
    ) -> str:
        """Share a case, which must succeed; the share's id."""
        payload = await self.share(token, case_id, agency_id, scope, **extra)
        assert payload["errors"] == [], payload
        share_id: str = payload["share"]["id"]
        return share_id

    async def read_case(self, token: str, case_id: str) -> dict[str, Any] | None:
        """The case with its subjects, identifiers, evidence, custody and shares; or null."""
        body = await self.gql(
            token,
            f"query($id: ID!) {{ node(id: $id) {{ ... on Case {{ {CASE_TREE} }} }} }}",
            {"id": case_id},
        )
        assert "errors" not in body, body
        case: dict[str, Any] | None = body["data"]["node"]
        return case

    async def nodes(self, token: str, ids: list[str]) -> list[dict[str, Any] | None]:
        """`nodes(ids:)` with each object's type and id."""
        body = await self.gql(
            token, "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", {"ids": ids}
        )
        assert "errors" not in body, body
        found: list[dict[str, Any] | None] = body["data"]["nodes"]
        return found

    async def node(self, token: str, object_id: str) -> dict[str, Any] | None:
        """`node(id:)` with the object's type and id."""
        body = await self.gql(
            token, "query($id: ID!) { node(id: $id) { __typename id } }", {"id": object_id}
        )
        assert "errors" not in body, body
        found: dict[str, Any] | None = body["data"]["node"]
        return found

    async def case_ids(self, token: str, case_filter: dict[str, Any] | None = None) -> list[str]:
        """Ids of the cases listed to the caller (first page of 100), and checks totalCount."""
        body = await self.gql(
            token,
            "query($filter: CaseFilter) { cases(filter: $filter, first: 100) "
            "{ totalCount edges { node { id } } } }",
            {"filter": case_filter},
        )
        assert "errors" not in body, body
        connection = body["data"]["cases"]
        ids = [edge["node"]["id"] for edge in connection["edges"]]
        assert connection["totalCount"] == len(ids), connection
        return ids


@pytest.fixture
def api(world: Any, gql: GraphQLCall) -> Api:
    """The case operations over HTTP, with `world`'s agencies."""
    return Api(world, gql)


@pytest.fixture
def req(gql: GraphQLCall) -> Requests:
    """The cooperation request operations over HTTP (tests/request_support.py)."""
    return Requests(gql)
