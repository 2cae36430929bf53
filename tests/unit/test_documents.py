"""The pure rules of registered documents: ids, Apollo's persistedQuery, documentId and
manifests."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from casehub.domain.documents import (
    DocumentRefused,
    ManifestError,
    RefusalCode,
    check_hash,
    document_id,
    manifest_entries,
    named_document,
    parse_id,
    persisted_query,
)

TEXT = "{ viewer { name } }"
HEX = hashlib.sha256(TEXT.encode()).hexdigest()


def test_a_documents_id_is_the_sha256_of_its_text_as_sent() -> None:
    assert document_id(TEXT) == "sha256:" + HEX
    assert document_id(TEXT + "\n") != document_id(TEXT)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sha256:" + HEX, "sha256:" + HEX),
        (HEX, "sha256:" + HEX),
        (HEX.upper(), "sha256:" + HEX),
        ("sha256:" + HEX.upper(), "sha256:" + HEX),
        ("SHA256:" + HEX, None),
        ("sha256:" + HEX[:-1], None),
        ("md5:" + HEX, None),
        (HEX + " ", None),
        (1, None),
        (None, None),
    ],
)
def test_parse_id(given: object, expected: str | None) -> None:
    assert parse_id(given) == expected


@pytest.mark.parametrize(
    ("extensions", "expected"),
    [
        (None, None),
        ({}, None),
        ({"other": 1}, None),
        ({"persistedQuery": {"version": 1, "sha256Hash": HEX}}, "sha256:" + HEX),
        ({"persistedQuery": {"version": 1, "sha256Hash": HEX.upper()}}, "sha256:" + HEX),
    ],
)
def test_persisted_query(extensions: dict[str, Any] | None, expected: str | None) -> None:
    assert persisted_query(extensions) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "x",
        [],
        {"sha256Hash": HEX},
        {"version": 1.0 + 1, "sha256Hash": HEX},
        {"version": True, "sha256Hash": HEX},
        {"version": "1", "sha256Hash": HEX},
        {"version": 1},
        {"version": 1, "sha256Hash": "sha256:" + HEX},
        {"version": 1, "sha256Hash": HEX[:10]},
    ],
)
def test_a_malformed_persisted_query(value: object) -> None:
    with pytest.raises(DocumentRefused) as refused:
        persisted_query({"persistedQuery": value})
    assert refused.value.code is RefusalCode.PERSISTED_QUERY_INVALID


def test_a_hash_must_be_the_texts() -> None:
    check_hash("sha256:" + HEX, TEXT)
    with pytest.raises(DocumentRefused) as refused:
        check_hash("sha256:" + HEX, TEXT + " ")
    assert refused.value.code is RefusalCode.PERSISTED_QUERY_HASH_MISMATCH


@pytest.mark.parametrize(
    ("given", "query", "persisted"),
    [("abc", None, None), (HEX, TEXT, None), (HEX, None, "sha256:" + HEX)],
)
def test_a_document_id_comes_alone_and_well_formed(
    given: object, query: str | None, persisted: str | None
) -> None:
    with pytest.raises(DocumentRefused) as refused:
        named_document(given, query, persisted)
    assert refused.value.code is RefusalCode.DOCUMENT_ID_INVALID


def test_manifests_of_both_formats() -> None:
    apollo = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": HEX, "name": "Viewer", "type": "query", "body": TEXT}],
    }
    [entry] = manifest_entries(apollo)
    assert (entry.id, entry.name, entry.body) == ("sha256:" + HEX, "Viewer", TEXT)
    [plain] = manifest_entries({"sha256:" + HEX: TEXT})
    assert (plain.id, plain.name) == ("sha256:" + HEX, None)


@pytest.mark.parametrize(
    ("manifest", "says"),
    [
        ([], "a manifest is a JSON object"),
        ({"format": "x"}, '"format"'),
        ({"format": "apollo-persisted-query-manifest", "version": 2}, '"version"'),
        ({"format": "apollo-persisted-query-manifest", "version": 1}, '"operations"'),
        (
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": [1]},
            "operation 0 must be an object",
        ),
        (
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": HEX, "name": 3, "body": TEXT}],
            },
            "its name must be a string",
        ),
        ({HEX: ""}, "its body must be a non-empty string"),
        ({HEX: 3}, "its body must be a non-empty string"),
        ({"nothex": TEXT}, "its id must be a SHA-256"),
        ({"0" * 64: TEXT}, "its id is not the SHA-256 of its body"),
    ],
)
def test_bad_manifests(manifest: object, says: str) -> None:
    with pytest.raises(ManifestError, match=says.replace("(", r"\(")):
        manifest_entries(manifest)
