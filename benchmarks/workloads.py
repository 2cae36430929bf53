"""The workloads, each as an operation on casehub (GraphQL over HTTP) and on the floor (plain
JSON endpoints), with the checks that make a wrong answer count as an error: the four compared
with the floor, and the submit workloads (an unsigned submission, then signed ones), which the
floor does not have: they measure what an agency signature adds to a submission on casehub."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from benchmarks.dataset import case_spec, hit_check_identifiers
from benchmarks.documents import CASES_PAGE, INBOX
from benchmarks.load import BadAnswer, Operation, untimed
from benchmarks.seeding import Tokens
from benchmarks.signing import Submitter, submission_signature
from casehub.api.ids import parse_global_id, to_global_id
from casehub.domain.documents import document_id
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.statements import signature_digest

PAGE = 50
CONTENT_BASE64 = base64.b64encode(bytes(range(256)) * 16).decode("ascii")  # 4 KiB

# The cases page as PostGraphile 4 serves it from the same tables (benchmarks/peer.py): the same
# rows, fields and order, the summary as stored (ciphertext), no policy and no audit.
PEER_CASES_PAGE = """query CasesPage($first: Int!) {
  allCaseFiles(first: $first, orderBy: ID_DESC) {
    edges { node {
      id reference title category status tlp handlingCode version createdAt summary
      owner: agencyByOwnerAgencyId { code name jurisdiction }
      subjects: subjectsByCaseId(orderBy: ID_ASC) { nodes {
        id kind displayName
        identifiers: identifiersBySubjectId(orderBy: ID_ASC) { nodes {
          id kind value platform chain
        } }
      } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
HIT_CHECK = """mutation HitCheck($ids: [IdentifierInput!]!) {
  hitCheck(identifiers: $ids) {
    results { kind hits { agency { code name jurisdiction } caseCount } }
    errors { code field message }
  }
}"""
OPEN_CASE = """mutation OpenCase($input: OpenCaseInput!) {
  openCase(input: $input) { case { id } errors { code field message } }
}"""
ADD_SUBJECT = """mutation AddSubject($input: AddSubjectInput!) {
  addSubject(input: $input) { subject { id } errors { code field message } }
}"""
ADD_EVIDENCE = """mutation AddEvidence($input: AddEvidenceInput!) {
  addEvidence(input: $input) { evidence { id sha256 } errors { code field message } }
}"""
# The draft comes back with casehub.client's RequestContent fields: what a statement is built
# from (signing-spec §2), so the signed workloads need no read of their own. The unsigned one
# asks for the same, so the pair differs only by the signature.
CREATE_REQUEST = """mutation CreateRequest($input: CreateCooperationRequestInput!) {
  createCooperationRequest(input: $input) {
    request {
      id kind priority legalBasis title status outcome version
      requester { id code } requested { id code kind } body
      particulars {
        offence dataToPreserve custodianOrLocation followUpMla imminentThreat
        accountIdentifiers { kind value platform chain } contentLocations
      }
      evidence { role evidenceId sha256 }
    }
    errors { code field message }
  }
}"""
# The receipt of the step shows which signatures the hub verified and committed to.
SUBMIT_REQUEST = """mutation SubmitRequest($input: RequestStepInput!) {
  submitCooperationRequest(input: $input) {
    request { status events { action receipt { eventJson } } }
    errors { code field message }
  }
}"""
NO_SIGNATURES_ON_THE_FLOOR = "n/a: no signatures on the floor"


@dataclass(frozen=True, slots=True)
class Fixture:
    """What the operations need to know of the seeded data."""

    tokens: Tokens
    cases: int
    submitter: Submitter


OperationFactory = Callable[[Fixture], Operation]


@dataclass(frozen=True, slots=True)
class Workload:
    """One workload: its operation on each server, and what the table says about it."""

    name: str
    title: str
    casehub: OperationFactory
    # None: the floor has no such operation (`no_floor` says why, in the floor's row).
    floor: OperationFactory | None
    no_floor: str = ""
    # The root field casehub must have; the workload is skipped on a schema without it.
    requires: str | None = None
    # Whether the two servers' answers must be equal (reads of the same data).
    compare: bool = False
    requests_per_operation: int = 1
    # Its operation on the peer (PostGraphile, PostgreSQL only), if it has one.
    peer: OperationFactory | None = None
    # The workload this one adds to (its name): the report gives the extra cost of an
    # operation over it, as a share of a write's.
    extra_over: str | None = None


def _headers(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", "content-type": "application/json"}


def _decoded(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise BadAnswer(f"HTTP {response.status_code}: {response.text[:300]}")
    body: dict[str, Any] = orjson.loads(response.content)
    if body.get("errors"):
        raise BadAnswer(f"errors: {orjson.dumps(body['errors']).decode()[:300]}")
    return body


async def _graphql(
    http: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """POST a GraphQL operation (a registered one by its id); its body, unless it failed."""
    registered = query in (CASES_PAGE, INBOX)
    sent = {"documentId": document_id(query)} if registered else {"query": query}
    content = orjson.dumps({**sent, "variables": variables})
    return _decoded(await http.post("/graphql", content=content, headers=_headers(token)))


def _payload(body: dict[str, Any], field: str, part: str) -> Any:
    """A part of a mutation's (or hitCheck's) payload, refusing one with user errors."""
    payload = body["data"][field]
    if payload["errors"]:
        raise BadAnswer(f"{field}: {orjson.dumps(payload['errors']).decode()[:300]}")
    return payload[part]


def _page(body: dict[str, Any], field: str) -> dict[str, Any]:
    """The data of a page (what the servers must agree on), refusing an empty one."""
    data: dict[str, Any] = body["data"]
    if not data[field]["edges"]:
        raise BadAnswer(f"{field}: an empty page")
    return data


def _casehub_read(query: str, field: str) -> OperationFactory:
    def factory(fixture: Fixture) -> Operation:
        async def operation(http: httpx.AsyncClient) -> object:
            body = await _graphql(http, fixture.tokens.reader, query, {"first": PAGE})
            return _page(body, field)

        return operation

    return factory


def _floor_read(path: str, field: str) -> OperationFactory:
    def factory(fixture: Fixture) -> Operation:
        headers = _headers(fixture.tokens.reader)

        async def operation(http: httpx.AsyncClient) -> object:
            response = await http.get(path, params={"first": PAGE}, headers=headers)
            return _page(_decoded(response), field)

        return operation

    return factory


def peer_page_shape(cases: int) -> list[list[int]]:
    """Identifiers per subject of each case on the first page, newest case first, as the
    seeded data has them (the newest `PAGE` of `cases`)."""
    numbers = range(cases - 1, max(cases - PAGE, 0) - 1, -1)
    return [
        [len(subject.identifiers) for subject in case_spec(number).subjects] for number in numbers
    ]


def peer_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """PostGraphile's cases page flattened to what it shares with casehub's: ids as UUIDs,
    the clear columns, the owner, subjects and identifiers (no summary, names or values)."""
    return [
        {
            "id": node["id"],
            **{key: node[key] for key in _CLEAR_CASE_FIELDS},
            "owner": node["owner"],
            "subjects": [
                {
                    "id": subject["id"],
                    "kind": subject["kind"],
                    "identifiers": [
                        {key: item[key] for key in _CLEAR_IDENTIFIER_FIELDS}
                        for item in subject["identifiers"]["nodes"]
                    ],
                }
                for subject in node["subjects"]["nodes"]
            ],
        }
        for node in (edge["node"] for edge in data["allCaseFiles"]["edges"])
    ]


def casehub_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """casehub's cases page flattened as `peer_rows` flattens PostGraphile's."""
    return [
        {
            "id": str(parse_global_id(node["id"])[1]),
            **{key: node[key] for key in _CLEAR_CASE_FIELDS},
            "owner": node["owner"],
            "subjects": [
                {
                    "id": str(parse_global_id(subject["id"])[1]),
                    "kind": subject["kind"],
                    "identifiers": [
                        {
                            **{key: item[key] for key in _CLEAR_IDENTIFIER_FIELDS},
                            "id": str(parse_global_id(item["id"])[1]),
                        }
                        for item in subject["identifiers"]
                    ],
                }
                for subject in node["subjects"]
            ],
        }
        for node in (edge["node"] for edge in data["cases"]["edges"])
    ]


_CLEAR_CASE_FIELDS = ("reference", "title", "category", "status", "tlp", "handlingCode", "version")
_CLEAR_IDENTIFIER_FIELDS = ("id", "kind", "platform", "chain")


def _first_other(found: list[list[int]], expected: list[list[int]]) -> str:
    """Where a page's shape first departs from the expected one, briefly."""
    if len(found) != len(expected):
        return f"{len(found)} cases against {len(expected)}"
    index = next(i for i, (a, b) in enumerate(zip(found, expected, strict=True)) if a != b)
    return f"of case {index}: {found[index]} against {expected[index]}"


def _peer_cases(fixture: Fixture) -> Operation:
    content = orjson.dumps({"query": PEER_CASES_PAGE, "variables": {"first": PAGE}})
    headers = {"content-type": "application/json"}
    shape = peer_page_shape(fixture.cases)

    async def operation(http: httpx.AsyncClient) -> object:
        body = _decoded(await http.post("/graphql", content=content, headers=headers))
        nodes = [edge["node"] for edge in body["data"]["allCaseFiles"]["edges"]]
        found = [
            [len(subject["identifiers"]["nodes"]) for subject in node["subjects"]["nodes"]]
            for node in nodes
        ]
        if found != shape:
            raise BadAnswer(f"allCaseFiles: identifiers per subject {_first_other(found, shape)}")
        if not all(node["owner"] and node["summary"] for node in nodes):
            raise BadAnswer("allCaseFiles: a case without its owner or summary")
        return body["data"]

    return operation


def _hit_check_identifiers(fixture: Fixture) -> list[dict[str, Any]]:
    return [
        {
            "kind": item.kind.value,
            "value": item.value,
            "platform": item.platform,
            "chain": item.chain,
        }
        for item in hit_check_identifiers(fixture.cases)
    ]


def _casehub_hit_check(fixture: Fixture) -> Operation:
    ids = _hit_check_identifiers(fixture)

    async def operation(http: httpx.AsyncClient) -> object:
        body = await _graphql(http, fixture.tokens.reader, HIT_CHECK, {"ids": ids})
        return _payload(body, "hitCheck", "results")

    return operation


def _floor_hit_check(fixture: Fixture) -> Operation:
    content = orjson.dumps({"identifiers": _hit_check_identifiers(fixture)})
    headers = _headers(fixture.tokens.reader)

    async def operation(http: httpx.AsyncClient) -> object:
        body = _decoded(await http.post("/floor/hit-check", content=content, headers=headers))
        return _payload(body, "hitCheck", "results")

    return operation


def _write_inputs(
    prefix: str,
) -> Callable[[], tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """Inputs of one write operation each call: case, subject, evidence (case id left out)."""
    numbers = itertools.count()

    def inputs() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        n = next(numbers)
        case = {
            "reference": f"{prefix}-{n}",
            "title": f"Bench write {n}",
            "summary": "Opened by the write workload: a channel selling counterfeit medicines.",
            "category": "FRAUD",
            "tlp": "AMBER",
            "handlingCode": "H1",
        }
        subject = {
            "kind": "PERSON",
            "displayName": f"Seller {n}",
            "identifiers": [
                {"kind": "PHONE", "value": f"+6019{n % 10_000_000:07d}"},
                {"kind": "EMAIL", "value": f"seller{n}@example.org"},
            ],
        }
        evidence = {
            "kind": "CHAT_LOG",
            "title": f"Chat export {n}",
            "description": "Export of the seller's channel, 4 KiB.",
            "contentBase64": CONTENT_BASE64,
            "mediaType": "text/plain",
        }
        return case, subject, evidence

    return inputs


def _casehub_write(fixture: Fixture) -> Operation:
    inputs = _write_inputs("W-CASEHUB")
    token = fixture.tokens.writer

    async def operation(http: httpx.AsyncClient) -> object:
        case, subject, evidence = inputs()
        body = await _graphql(http, token, OPEN_CASE, {"input": case})
        case_id = _payload(body, "openCase", "case")["id"]
        body = await _graphql(http, token, ADD_SUBJECT, {"input": {**subject, "caseId": case_id}})
        _payload(body, "addSubject", "subject")
        body = await _graphql(http, token, ADD_EVIDENCE, {"input": {**evidence, "caseId": case_id}})
        return _payload(body, "addEvidence", "evidence")

    return operation


def _floor_write(fixture: Fixture) -> Operation:
    inputs = _write_inputs("W-FLOOR")
    headers = _headers(fixture.tokens.writer)

    async def post(http: httpx.AsyncClient, path: str, data: dict[str, Any]) -> dict[str, Any]:
        return _decoded(await http.post(path, content=orjson.dumps(data), headers=headers))

    async def operation(http: httpx.AsyncClient) -> object:
        case, subject, evidence = inputs()
        body = await post(http, "/floor/open-case", case)
        case_id = _payload(body, "openCase", "case")["id"]
        body = await post(http, "/floor/add-subject", {**subject, "caseId": case_id})
        _payload(body, "addSubject", "subject")
        body = await post(http, "/floor/add-evidence", {**evidence, "caseId": case_id})
        return _payload(body, "addEvidence", "evidence")

    return operation


def _draft_inputs(prefix: str, requested: str) -> Callable[[], dict[str, Any]]:
    """The input of a new ROUTINE draft to the `requested` agency (global id), each call."""
    numbers = itertools.count()

    def draft() -> dict[str, Any]:
        n = next(numbers)
        return {
            "requestedAgencyId": requested,
            "kind": "INFORMATION_REQUEST",
            "priority": "ROUTINE",
            "title": f"{prefix} subscriber data {n}",
            "body": f"Please provide the subscriber details of +6019{n % 10_000_000:07d}.",
        }

    return draft


def check_submitted(request: dict[str, Any], signature: dict[str, str] | None) -> None:
    """Refuse a submission the hub did not send, or whose receipt does not commit to exactly
    the signature given (none for an unsigned one)."""
    if request["status"] != "SUBMITTED":
        raise BadAnswer(f"submitCooperationRequest: status {request['status']}, not SUBMITTED")
    step = request["events"][-1]
    if step["action"] != "SUBMIT":
        raise BadAnswer(f"submitCooperationRequest: the last event is {step['action']}")
    committed = orjson.loads(step["receipt"]["eventJson"]).get("signatures", [])
    expected = (
        []
        if signature is None
        else [signature_digest(signature["statement"], signature["signature"])]
    )
    if committed != expected:
        raise BadAnswer(f"submitCooperationRequest: the receipt commits to {committed}")


def _casehub_submit(algorithm: SigningAlgorithm | None) -> OperationFactory:
    """Create a draft and submit it: unsigned, or signed with the submitter's key of this
    algorithm (the signing outside the timed part: it is the tool's cost, not the hub's)."""

    def factory(fixture: Fixture) -> Operation:
        submitter, token = fixture.submitter, fixture.tokens.writer
        key = None if algorithm is None else submitter.keys[algorithm]
        prefix = "Bench submit" if algorithm is None else f"Bench {algorithm.value} submit"
        drafts = _draft_inputs(prefix, to_global_id("Agency", submitter.requested))

        async def operation(http: httpx.AsyncClient) -> object:
            body = await _graphql(http, token, CREATE_REQUEST, {"input": drafts()})
            draft = _payload(body, "createCooperationRequest", "request")
            step: dict[str, Any] = {"id": draft["id"]}
            signature = None
            if key is not None:
                with untimed():
                    signature = submission_signature(key, submitter, draft)
                step["signature"] = signature
            body = await _graphql(http, token, SUBMIT_REQUEST, {"input": step})
            submitted = _payload(body, "submitCooperationRequest", "request")
            check_submitted(submitted, signature)
            return submitted

        return operation

    return factory


WORKLOADS = (
    Workload(
        name="cases",
        title="a. cases page",
        casehub=_casehub_read(CASES_PAGE, "cases"),
        floor=_floor_read("/floor/cases", "cases"),
        compare=True,
        peer=_peer_cases,
    ),
    Workload(
        name="inbox",
        title="b. inbox",
        casehub=_casehub_read(INBOX, "cooperationRequests"),
        floor=_floor_read("/floor/inbox", "cooperationRequests"),
        compare=True,
    ),
    Workload(
        name="hit-check",
        title="c. hitCheck x20",
        casehub=_casehub_hit_check,
        floor=_floor_hit_check,
        requires="hitCheck",
        compare=True,
    ),
    Workload(
        name="write",
        title="d. write",
        casehub=_casehub_write,
        floor=_floor_write,
        requests_per_operation=3,
    ),
    Workload(
        name="submit",
        title="e. submit",
        casehub=_casehub_submit(None),
        floor=None,
        no_floor=NO_SIGNATURES_ON_THE_FLOOR,
        requests_per_operation=2,
    ),
    Workload(
        name="signed-submit",
        title="f. signed submit",
        casehub=_casehub_submit(SigningAlgorithm.ED25519),
        floor=None,
        no_floor=NO_SIGNATURES_ON_THE_FLOOR,
        requests_per_operation=2,
        extra_over="submit",
    ),
    Workload(
        name="signed-submit-hybrid",
        title="g. signed submit, hybrid",
        casehub=_casehub_submit(SigningAlgorithm.ED25519_ML_DSA_65),
        floor=None,
        no_floor=NO_SIGNATURES_ON_THE_FLOOR,
        requests_per_operation=2,
        extra_over="submit",
    ),
)
