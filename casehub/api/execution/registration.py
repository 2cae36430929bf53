"""Documents to register, read and checked: manifests (Apollo's persisted-query manifest, a
plain {id: text} map), .graphql files and directories of them, each document parsed within
the query limits and validated against the production schema (no introspection), as it would
be when a request runs it. `casehub documents add` and CASEHUB_DOCUMENTS_DIR (casehub.app)
share it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graphql import GraphQLError, parse, validate
from graphql.validation import NoSchemaIntrospectionCustomRule, specified_rules

from casehub.api.execution.limits import QueryLimits
from casehub.api.schema import build_schema
from casehub.config import Settings
from casehub.domain.documents import (
    ManifestEntry,
    ManifestError,
    graphql_file_entry,
    manifest_entries,
)

GRAPHQL_SUFFIXES = (".graphql", ".gql")
MANIFEST_SUFFIXES = (".json",)
Found = list[tuple[str, ManifestEntry]]  # each document with the file it came from


class DocumentChecker:
    """Checks documents against the schema a production server runs."""

    def __init__(self, settings: Settings) -> None:
        self.limits = QueryLimits.of(settings)
        self.schema = build_schema(development=False, limits=self.limits)._schema
        self.rules = [*specified_rules, NoSchemaIntrospectionCustomRule]

    def problem(self, text: str) -> str | None:
        """Why the document cannot be registered (its first error), or None."""
        try:
            document = parse(
                text,
                max_tokens=self.limits.tokens,
                max_source_length=self.limits.document_chars,
            )
        except GraphQLError as error:
            return error.message
        errors = validate(self.schema, document, self.rules)
        return errors[0].message if errors else None


def read_documents(paths: list[Path], settings: Settings) -> Found:
    """Every document of these files (a directory: its .json and .graphql files), checked;
    ManifestError for the first file or document that cannot be registered, naming it."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                child
                for child in path.iterdir()
                if child.is_file() and child.suffix in (*GRAPHQL_SUFFIXES, *MANIFEST_SUFFIXES)
            )
        else:
            files.append(path)
    found: Found = []
    for file in files:
        found += [(str(file), entry) for entry in _entries(file, settings.max_manifest_bytes)]
    if not found:
        raise ManifestError("no documents in the files given")
    limit = settings.max_registered_documents
    if len(found) > limit:
        raise ManifestError(
            f"{len(found)} documents, more than CASEHUB_MAX_REGISTERED_DOCUMENTS ({limit})"
        )
    checker = DocumentChecker(settings)
    for where, entry in found:
        if problem := checker.problem(entry.body):
            name = f" ({entry.name})" if entry.name else ""
            raise ManifestError(
                f"{where}: document {entry.id}{name} does not validate against the schema: "
                f"{problem}"
            )
    return found


def _entries(file: Path, max_bytes: int) -> list[ManifestEntry]:
    if not file.is_file():
        raise ManifestError(f"{file}: no such file")
    size = file.stat().st_size
    if size > max_bytes:
        raise ManifestError(
            f"{file}: {size} bytes, more than CASEHUB_MAX_MANIFEST_BYTES ({max_bytes})"
        )
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"{file}: cannot be read as UTF-8 text ({error})") from None
    if file.suffix in GRAPHQL_SUFFIXES:
        return [graphql_file_entry(text)]
    if file.suffix not in MANIFEST_SUFFIXES:
        raise ManifestError(f"{file}: not a .json manifest nor a .graphql file")
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise ManifestError(f"{file}: not JSON ({error.msg}, line {error.lineno})") from None
    try:
        return manifest_entries(data)
    except ManifestError as error:
        raise ManifestError(f"{file}: {error}") from None
