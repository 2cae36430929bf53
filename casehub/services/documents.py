"""The registry of GraphQL documents agency tools name by id: trusted documents an operator
adds from a manifest, and Apollo's automatic persisted queries registered on retry.

Documents are hub-wide (no agency owns one) and are only queries: running one checks every
field as running its text would. The table is shared by every replica; each process keeps a
bounded cache of what it looked up, for a short time, so a document removed by an operator
stops running everywhere within CACHE_SECONDS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cachetools import LRUCache, TTLCache
from graphql.language import DocumentNode, parse

from casehub.domain.buckets import Rate
from casehub.domain.documents import ManifestEntry, ManifestError, Source
from casehub.persistence import DuplicateError
from casehub.persistence.tables import RegisteredDocumentRow
from casehub.services.audit import trail as audit
from casehub.services.ratelimit import RateLimiter
from casehub.services.runtime import Principal, Runtime, open_scope, unavailable

log = logging.getLogger("casehub.documents")

# Documents a process keeps at hand, and for how long (a removal reaches it within that).
CACHE_DOCUMENTS = 2048
CACHE_SECONDS = 60.0
PARSED_DOCUMENTS = 1024
PAGE = 500  # documents read per statement when iterating the registry


@dataclass(frozen=True, slots=True)
class RegisteredDocument:
    """One registered document: its id, text, name (a manifest's operation name), source and
    when it was added."""

    id: str
    text: str
    name: str | None
    source: str
    added_at: datetime


@dataclass
class Added:
    """What `add_manifest` did: the ids it registered and those already there."""

    added: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)


class DocumentRegistry:
    """Look-ups by id (with a short per-process cache), parsed documents (cached), iteration
    over every registered document, and registration by Apollo's register-on-retry."""

    def __init__(self, runtime: Runtime, clock: Callable[[], float] = time.monotonic) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self._cache: TTLCache[str, RegisteredDocument] = TTLCache(
            maxsize=CACHE_DOCUMENTS, ttl=CACHE_SECONDS, timer=clock
        )
        self._parsed: LRUCache[str, DocumentNode] = LRUCache(maxsize=PARSED_DOCUMENTS)
        per_minute = settings.apq_registrations_per_minute
        self._registrations = RateLimiter(Rate(per_minute / 60, per_minute), clock)
        self._parse_options = {
            "max_tokens": settings.max_query_tokens,
            "max_source_length": settings.max_document_chars,
        }

    async def get(self, document_id: str) -> RegisteredDocument | None:
        """The registered document with this (canonical) id, or None."""
        cached = self._cache.get(document_id)
        if cached is not None:
            return cached
        async with open_scope(self.runtime) as scope:
            row = await scope.store.document_by_id(document_id)
            # Read before the read ends: ending it expires the row.
            document = None if row is None else _document(row)
            await scope.store.end_read()
        if document is None:
            return None  # not cached: another replica may register it at any time
        self._cache[document_id] = document
        return document

    def parsed(self, document: RegisteredDocument) -> DocumentNode:
        """The document's syntax tree, parsed once per process (within the query limits:
        GraphQLSyntaxError when it no longer fits them)."""
        node = self._parsed.get(document.id)
        if node is None:
            node = parse(document.text, **self._parse_options)  # type: ignore[arg-type]
            self._parsed[document.id] = node
        return node

    async def documents(self) -> AsyncIterator[RegisteredDocument]:
        """Every registered document, in id order, read a page at a time."""
        async for document in all_documents(self.runtime):
            yield document

    async def register_apq(self, principal: Principal, document_id: str, text: str) -> bool:
        """Store a document an operation just ran from (Apollo's register-on-retry), recorded
        in the audit log; whether it was stored. Not stored, though it ran: past the token's
        registrations per minute, a full registry or a database that cannot serve now (each
        logged; the client sends the text again next time)."""
        if document_id in self._cache:
            return False
        try:
            return await self._register(principal, document_id, text)
        except Exception as error:
            if not unavailable(error):
                raise
            log.warning("persisted query not registered: the database is unavailable")
            return False

    async def _register(self, principal: Principal, document_id: str, text: str) -> bool:
        if self._registrations.take(str(principal.token_id)):
            log.warning("persisted query not registered: token %s over its rate", principal.id)
            return False
        async with open_scope(self.runtime) as scope:
            scope.principal = principal
            count = await scope.store.count_documents()
            if count >= self.runtime.settings.max_registered_documents:
                await scope.store.end_read()
                log.warning("persisted query not registered: the registry is full (%d)", count)
                return False
            row = _row(ManifestEntry(document_id, None, text), Source.APQ, scope.now)
            document = _document(row)
            try:
                async with scope.store.transaction():
                    if await scope.store.document_by_id(document_id) is not None:
                        return False
                    scope.store.add(row)
                    await audit.append(scope, [_registered(row)])
            except DuplicateError:
                return False  # registered at the same time by another request
        self._cache[document_id] = document
        return True


async def all_documents(runtime: Runtime) -> AsyncIterator[RegisteredDocument]:
    """Every registered document, in id order, read a page at a time."""
    after: str | None = None
    while True:
        async with open_scope(runtime) as scope:
            rows = await scope.store.documents_page(first=PAGE, after=after)
            page = [_document(row) for row in rows]
            await scope.store.end_read()
        for document in page:
            yield document
        if len(page) < PAGE:
            return
        after = page[-1].id


async def add_manifest(runtime: Runtime, entries: Sequence[ManifestEntry]) -> Added:
    """Register a manifest's documents (already checked against the schema), all or none,
    each recorded in the audit log as an operator's act; those already registered stay as
    they are. ManifestError when the registry cannot hold them all."""
    unique = list({entry.id: entry for entry in entries}.values())
    try:
        return await _add(runtime, unique)
    except DuplicateError:
        # Another replica or operator added some of them at the same time: they are present.
        return await _add(runtime, unique)


async def _add(runtime: Runtime, unique: list[ManifestEntry]) -> Added:
    async with open_scope(runtime) as scope, scope.store.transaction():
        present = await scope.store.registered_ids(entry.id for entry in unique)
        new = [entry for entry in unique if entry.id not in present]
        limit = runtime.settings.max_registered_documents
        count = await scope.store.count_documents()
        if count + len(new) > limit:
            raise ManifestError(
                f"the registry holds {count} documents: {len(new)} more would pass "
                f"CASEHUB_MAX_REGISTERED_DOCUMENTS ({limit})"
            )
        rows = [_row(entry, Source.MANIFEST, scope.now) for entry in new]
        scope.store.add(*rows)
        await audit.append(scope, [_registered(row) for row in rows])
    return Added(added=[entry.id for entry in new], present=sorted(present))


async def remove(runtime: Runtime, document_id: str) -> bool:
    """Remove a document (an operator's act, audited); whether it was registered. Replicas
    that cached it stop running it within CACHE_SECONDS."""
    async with open_scope(runtime) as scope, scope.store.transaction():
        removed = await scope.store.remove_document(document_id)
        if removed:
            await audit.append(
                scope,
                [audit.AuditEntry(action="document.remove", details={"id": document_id})],
            )
    return removed


def _registered(row: RegisteredDocumentRow) -> audit.AuditEntry:
    # The id names the text (which is no secret, but long): id, name and source suffice.
    return audit.AuditEntry(
        action="document.register",
        details={"id": row.id, "name": row.name, "source": row.source},
    )


def _row(entry: ManifestEntry, source: Source, now: datetime) -> RegisteredDocumentRow:
    return RegisteredDocumentRow(
        id=entry.id, body=entry.body, name=entry.name, source=source.value, added_at=now
    )


def _document(row: RegisteredDocumentRow) -> RegisteredDocument:
    return RegisteredDocument(
        id=row.id, text=row.body, name=row.name, source=row.source, added_at=row.added_at
    )
