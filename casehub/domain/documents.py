"""Registered GraphQL documents: their ids, how a request names one (Apollo's
`extensions.persistedQuery`, GraphQL over HTTP's `documentId`), and the manifests an agency
tool ships. Pure rules; the registry itself is casehub.services.documents."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "sha256:"
_HEX = re.compile(r"[0-9a-fA-F]{64}")
APOLLO_MANIFEST = "apollo-persisted-query-manifest"
# Manifest entries are named after their operation; a longer name is cut when listed.
MAX_NAME_CHARS = 200


class Source(StrEnum):
    """How a document came into the registry."""

    MANIFEST = "manifest"  # an operator's `casehub documents add`
    APQ = "apq"  # Apollo's automatic persisted queries, registered on retry


class RefusalCode(StrEnum):
    """The error codes of a request refused for the document it names."""

    # Apollo's client retries with the text on exactly this code (or message).
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_INVALID = "PERSISTED_QUERY_INVALID"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    DOCUMENT_ID_INVALID = "DOCUMENT_ID_INVALID"
    DOCUMENT_NOT_FOUND = "DOCUMENT_NOT_FOUND"
    DOCUMENT_NOT_REGISTERED = "DOCUMENT_NOT_REGISTERED"


# Apollo's client matches this message as well as the code.
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"


class DocumentRefused(Exception):
    """A request refused for the document it names (or fails to name)."""

    def __init__(self, code: RefusalCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ManifestError(Exception):
    """A manifest that cannot be registered; the message names the entry."""


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One document of a manifest: its id (checked against its text), name and text."""

    id: str
    name: str | None
    body: str


def document_id(text: str) -> str:
    """The id of a document: "sha256:" and the hex SHA-256 of its UTF-8 text exactly as sent."""
    return PREFIX + hashlib.sha256(text.encode()).hexdigest()


def parse_id(value: object) -> str | None:
    """A document id as given ("sha256:<hex>" or the bare hex, any case) in its canonical
    spelling; None when the value is not one."""
    if not isinstance(value, str):
        return None
    digest = value[len(PREFIX) :] if value.startswith(PREFIX) else value
    return PREFIX + digest.lower() if _HEX.fullmatch(digest) else None


def persisted_query(extensions: dict[str, object] | None) -> str | None:
    """The id named by Apollo's `extensions.persistedQuery` ({"version": 1, "sha256Hash":
    "<hex>"}), None when the request has none; PERSISTED_QUERY_INVALID when it is malformed."""
    if not extensions or "persistedQuery" not in extensions:
        return None
    value = extensions["persistedQuery"]
    if not isinstance(value, dict):
        raise _invalid("extensions.persistedQuery must be an object.")
    version = value.get("version")
    if type(version) is not int or version != 1:
        raise _invalid("extensions.persistedQuery.version must be 1.")
    digest = value.get("sha256Hash")
    if not isinstance(digest, str) or not _HEX.fullmatch(digest):
        raise _invalid("extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits.")
    return PREFIX + digest.lower()


def named_document(document_id_value: object, query: str | None, persisted: str | None) -> str:
    """The id of GraphQL over HTTP's `documentId`; DOCUMENT_ID_INVALID when it is not one or
    when the request also carries a document or a persistedQuery."""
    parsed = parse_id(document_id_value)
    if parsed is None:
        raise DocumentRefused(
            RefusalCode.DOCUMENT_ID_INVALID,
            'documentId must be "sha256:" followed by 64 hexadecimal digits.',
        )
    if query is not None or persisted is not None:
        raise DocumentRefused(
            RefusalCode.DOCUMENT_ID_INVALID,
            "Send documentId alone: not with a query or extensions.persistedQuery.",
        )
    return parsed


def check_hash(persisted: str, query: str) -> None:
    """PERSISTED_QUERY_HASH_MISMATCH unless the text is the one the hash names."""
    if document_id(query) != persisted:
        raise DocumentRefused(
            RefusalCode.PERSISTED_QUERY_HASH_MISMATCH,
            "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query sent.",
        )


def manifest_entries(data: object) -> list[ManifestEntry]:
    """The documents of a manifest: Apollo's persisted-query manifest
    ({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id", "name",
    "type", "body"}]}) or a plain {"<id>": "<text>"} map. Every id must be its text's; a
    ManifestError names the first entry that is wrong."""
    if not isinstance(data, dict):
        raise ManifestError("a manifest is a JSON object")
    if "format" in data:
        return _apollo_entries(data)
    return [_entry(key, None, body, f"entry {key!r}") for key, body in data.items()]


def graphql_file_entry(text: str) -> ManifestEntry:
    """A .graphql file as one document, its id that of the file's text."""
    return ManifestEntry(id=document_id(text), name=None, body=text)


def _apollo_entries(data: dict[str, object]) -> list[ManifestEntry]:
    if data.get("format") != APOLLO_MANIFEST:
        raise ManifestError(f'the manifest\'s "format" must be "{APOLLO_MANIFEST}"')
    if data.get("version") != 1:
        raise ManifestError('the manifest\'s "version" must be 1')
    operations = data.get("operations")
    if not isinstance(operations, list):
        raise ManifestError('the manifest\'s "operations" must be a list')
    entries = []
    for index, operation in enumerate(operations):
        where = f"operation {index}"
        if not isinstance(operation, dict):
            raise ManifestError(f"{where} must be an object")
        name = operation.get("name")
        if name is not None and not isinstance(name, str):
            raise ManifestError(f"{where}: its name must be a string")
        if name:
            where = f"operation {index} ({name[:MAX_NAME_CHARS]})"
        entries.append(_entry(operation.get("id"), name, operation.get("body"), where))
    return entries


def _entry(given: object, name: str | None, body: object, where: str) -> ManifestEntry:
    if not isinstance(body, str) or not body.strip():
        raise ManifestError(f"{where}: its body must be a non-empty string")
    wanted = parse_id(given)
    if wanted is None:
        raise ManifestError(f"{where}: its id must be a SHA-256 in hexadecimal")
    if wanted != document_id(body):
        raise ManifestError(f"{where}: its id is not the SHA-256 of its body")
    return ManifestEntry(id=wanted, name=name[:MAX_NAME_CHARS] if name else None, body=body)


def _invalid(message: str) -> DocumentRefused:
    return DocumentRefused(RefusalCode.PERSISTED_QUERY_INVALID, message)
