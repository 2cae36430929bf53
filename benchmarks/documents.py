"""The read documents casehub's benchmark client sends, registered as an agency tool's
manifest would be (`casehub documents add`) and sent by `documentId`, so that casehub answers
them as it answers the documents agency tools ship: with compiled plans."""

from __future__ import annotations

from casehub.domain.documents import ManifestEntry, document_id

CASES_PAGE = """query CasesPage($first: Int!) {
  cases(first: $first) {
    edges { node {
      id reference title category status tlp handlingCode version createdAt viewerAccess summary
      owner { code name jurisdiction }
      subjects { id kind displayName identifiers { id kind value platform chain } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
INBOX = """query Inbox($first: Int!) {
  cooperationRequests(filter: {direction: INCOMING}, first: $first) {
    edges { node {
      id kind priority title status submittedAt acknowledgeBy
      requester { code name jurisdiction }
      events { number action toStatus occurredAt }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def manifest() -> list[ManifestEntry]:
    """The documents to register before measuring."""
    return [
        ManifestEntry(document_id(text), name, text)
        for name, text in (("CasesPage", CASES_PAGE), ("Inbox", INBOX))
    ]
