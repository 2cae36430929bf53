"""DataLoaders, one set per request, each batching into one service call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar
from uuid import UUID

from strawberry.dataloader import DataLoader

from casehub.domain.requests.transitions import Side
from casehub.services.agencies import agencies, signing_keys
from casehub.services.audit import log as audit_log
from casehub.services.audit.log import Inclusion
from casehub.services.cases import cases, custody, evidence, sharing, subjects
from casehub.services.federation import remote_agencies
from casehub.services.requests import reads as request_reads
from casehub.services.requests import verification as request_verification
from casehub.services.runtime import Scope
from casehub.services.views import (
    AgencyView,
    CaseView,
    CustodyEventView,
    EvidenceView,
    IdentifierView,
    PeerHubView,
    RequestEventView,
    RequestEvidenceView,
    RequestMessageView,
    ShareView,
    SigningKeyView,
    StepVerificationView,
    SubjectView,
)

K = TypeVar("K")
V = TypeVar("V")
Missing = TypeVar("Missing")

# The objects of a case or of a request are asked for with the id of what holds them (a case,
# a subject, an evidence item, a request) and, where the look-up needs it, what the caller has
# been shown of it: the id of its case, or its side of the request.
CaseChild = tuple[UUID, UUID]
RequestPart = tuple[UUID, Side]

Running = set[asyncio.Task[Any]]


def _loader(
    scope: Scope,
    fetch: Callable[[Scope, Sequence[K]], Awaitable[Mapping[UUID, V]]],
    key_of: Callable[[K], UUID],
    missing: Callable[[], Missing],
    running: Running,
) -> DataLoader[K, V | Missing]:
    """A loader whose batch is one `fetch`, which answers by the id in each key; what it does
    not answer is `missing()`."""

    async def load(keys: list[K]) -> list[V | Missing]:
        # The batch runs in a task of the DataLoader's own, not the operation's: cancelling the
        # operation leaves it running on the request's session unless it is known.
        task = asyncio.current_task()
        assert task is not None  # a DataLoader batch always runs in a task
        running.add(task)
        try:
            found = await fetch(scope, keys)
        finally:
            running.discard(task)
        return [found[key_of(key)] if key_of(key) in found else missing() for key in keys]

    return DataLoader(load_fn=load)


def _by_id(
    scope: Scope,
    fetch: Callable[[Scope, Sequence[UUID]], Awaitable[Mapping[UUID, V]]],
    running: Running,
) -> DataLoader[UUID, V | None]:
    """Objects by id; None for those the caller does not see."""
    return _loader(scope, fetch, _same, _none, running)


def _lists(
    scope: Scope,
    fetch: Callable[[Scope, Sequence[K]], Awaitable[Mapping[UUID, list[V]]]],
    key_of: Callable[[K], UUID],
    running: Running,
) -> DataLoader[K, list[V]]:
    """The objects held by each key's object; an empty list where it holds none."""
    return _loader(scope, fetch, key_of, list, running)


def _same(key: UUID) -> UUID:
    return key


def _first(key: tuple[UUID, object]) -> UUID:
    return key[0]


def _none() -> None:
    return None


class Loaders:
    """The loaders of one request; DataLoader construction is cheap and batches nothing yet."""

    def __init__(self, scope: Scope) -> None:
        self._running: Running = set()
        running = self._running
        self.agency: DataLoader[UUID, AgencyView | None] = _by_id(
            scope, agencies.agencies_by_ids, running
        )
        self.peer_hub: DataLoader[UUID, PeerHubView | None] = _by_id(
            scope, remote_agencies.peer_hubs_by_ids, running
        )
        self.signing_keys: DataLoader[UUID, list[SigningKeyView]] = _lists(
            scope, signing_keys.signing_keys_of, _same, running
        )
        self.case: DataLoader[UUID, CaseView | None] = _by_id(scope, cases.cases_by_ids, running)
        self.subjects: DataLoader[UUID, list[SubjectView]] = _lists(
            scope, subjects.subjects_of_cases, _same, running
        )
        self.identifiers: DataLoader[CaseChild, list[IdentifierView]] = _lists(
            scope, subjects.identifiers_of_subjects, _first, running
        )
        self.evidence: DataLoader[UUID, list[EvidenceView]] = _lists(
            scope, evidence.evidence_of_cases, _same, running
        )
        self.custody: DataLoader[CaseChild, list[CustodyEventView]] = _lists(
            scope, custody.custody_of_evidence, _first, running
        )
        self.shares: DataLoader[UUID, list[ShareView]] = _lists(
            scope, sharing.shares_of_cases, _same, running
        )
        self.request_events: DataLoader[RequestPart, list[RequestEventView]] = _lists(
            scope, request_reads.events_of, _first, running
        )
        self.request_messages: DataLoader[RequestPart, list[RequestMessageView]] = _lists(
            scope, request_reads.messages_of, _first, running
        )
        self.request_verification: DataLoader[RequestPart, list[StepVerificationView]] = _lists(
            scope, request_verification.verification_of, _first, running
        )
        self.request_evidence: DataLoader[RequestPart, list[RequestEvidenceView]] = _lists(
            scope, request_reads.evidence_of, _first, running
        )
        self.audit_inclusion: DataLoader[UUID, Inclusion | None] = _by_id(
            scope, audit_log.inclusions_of, running
        )

    async def settle(self) -> None:
        """Cancel the batches still running and wait for them, so that no query of a cut
        operation is left on its session when the session is closed."""
        while self._running:
            batches = list(self._running)
            for task in batches:
                task.cancel()
            await asyncio.gather(*batches, return_exceptions=True)
            self._running.difference_update(batches)
