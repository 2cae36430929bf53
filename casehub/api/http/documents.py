"""Which document a /graphql request runs: its text, GraphQL over HTTP's `documentId`, or
Apollo's `extensions.persistedQuery` (automatic persisted queries: a hash alone runs a known
document, else PERSISTED_QUERY_NOT_FOUND; the retry with the text registers it once it ran),
and, with CASEHUB_DOCUMENTS=registered, only documents of the registry
(casehub.services.documents). Every refusal here comes before any GraphQL work and writes
nothing."""

from __future__ import annotations

from dataclasses import dataclass

from casehub.config import DocumentsMode
from casehub.domain.documents import (
    NOT_FOUND_MESSAGE,
    DocumentRefused,
    RefusalCode,
    check_hash,
    document_id,
    named_document,
    persisted_query,
)
from casehub.services.documents import DocumentRegistry


@dataclass(frozen=True, slots=True)
class Resolved:
    """The text to run, whether it is a registered document (which compiled plans answer),
    and the id to register it under once it ran (APQ's retry), if any."""

    query: str | None
    registered: bool = False
    register: str | None = None


async def resolve(
    registry: DocumentRegistry,
    mode: DocumentsMode,
    query: str | None,
    extensions: dict[str, object] | None,
    given_id: object,
) -> Resolved:
    """The document this request runs; DocumentRefused when it names none it may run. An id
    nobody registered and one registered are told apart only by whether it runs: documents
    are hub-wide, owned by no agency, so that says nothing about any agency's data."""
    persisted = persisted_query(extensions)
    if given_id is not None:
        wanted = named_document(given_id, query, persisted)
        return Resolved(await _text(registry, wanted, RefusalCode.DOCUMENT_NOT_FOUND), True)
    if persisted is not None:
        if query is None:
            text = await _text(registry, persisted, RefusalCode.PERSISTED_QUERY_NOT_FOUND)
            return Resolved(text, True)
        check_hash(persisted, query)
        known = await registry.get(persisted)
        if known is not None:
            return Resolved(query, True)
        if mode is DocumentsMode.REGISTERED:
            raise _not_registered()
        return Resolved(query, register=persisted)
    if query is not None and mode is DocumentsMode.REGISTERED:
        if await registry.get(document_id(query)) is None:
            raise _not_registered()
        return Resolved(query, True)
    return Resolved(query)  # no query at all: strawberry's own 400


async def _text(registry: DocumentRegistry, wanted: str, missing: RefusalCode) -> str:
    document = await registry.get(wanted)
    if document is None:
        raise DocumentRefused(
            missing,
            NOT_FOUND_MESSAGE
            if missing is RefusalCode.PERSISTED_QUERY_NOT_FOUND
            else "No document is registered with this documentId.",
        )
    return document.text


def _not_registered() -> DocumentRefused:
    return DocumentRefused(
        RefusalCode.DOCUMENT_NOT_REGISTERED,
        "This server runs registered documents only: send the documentId of a document "
        "registered with `casehub documents add`.",
    )


def status_of(refused: DocumentRefused, graphql_response: bool) -> int:
    """The HTTP status of a refusal: 400, but PERSISTED_QUERY_NOT_FOUND is 200 under
    application/json, as Apollo's clients have it (they retry with the text on either)."""
    if refused.code is RefusalCode.PERSISTED_QUERY_NOT_FOUND and not graphql_response:
        return 200
    return 400
