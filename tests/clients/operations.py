"""The documents an agency tool sends, one copy for every client here: gql runs them, the node
scripts receive them in their environment, GraphQL Code Generator types them."""

from __future__ import annotations

from tests.integration.servers import CREATE, SUBMIT

__all__ = [
    "ADD_EVIDENCE",
    "CASES_PAGE",
    "CREATE",
    "EVIDENCE_COUNT",
    "INBOX",
    "OPEN_CASE",
    "SUBMIT",
    "VIEWER",
]

VIEWER = "query Viewer { viewer { name roles agency { code } } }"
OPEN_CASE = """mutation OpenCase($input: OpenCaseInput!) {
  openCase(input: $input) { case { id reference title } errors { code message } } }"""
CASES_PAGE = """query CasesPage($first: Int!, $after: String) {
  cases(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id reference title category tlp } } } }"""
ADD_EVIDENCE = """mutation AddEvidence($caseId: ID!, $file: Upload!) {
  addEvidence(input: {caseId: $caseId, kind: DOCUMENT, title: "Statement", content: $file}) {
    evidence { sha256 sizeBytes contentBase64 } errors { code message } } }"""
EVIDENCE_COUNT = "query($id: ID!) { node(id: $id) { ... on Case { evidence { id } } } }"
# Since 0: every event of the agency's requests, so that the request a test submits arrives
# whether it was committed before or after the subscription started.
INBOX = """subscription Inbox { cooperationRequestEvents(since: 0) {
  seq action toStatus requestId actorAgency { code } } }"""


def open_case_input(reference: str) -> dict[str, object]:
    """openCase's variables for a case of this reference."""
    return {
        "input": {
            "reference": reference,
            "title": f"Operation {reference}",
            "summary": "Investment scam run through a messenger channel",
            "category": "INVESTMENT_SCAM",
        }
    }


def request_input(platform_id: str, title: str) -> dict[str, object]:
    """createCooperationRequest's variables: the police ask the platform."""
    return {
        "i": {
            "requestedAgencyId": platform_id,
            "kind": "INFORMATION_REQUEST",
            "priority": "URGENT",
            "title": title,
            "body": "Who registered the channel's admin account?",
        }
    }
