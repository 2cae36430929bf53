"""DataLoaders, one set per request, each batching into one service call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from strawberry.dataloader import DataLoader

from casehub.services.agencies import agencies
from casehub.services.cases import cases, evidence, sharing, subjects
from casehub.services.requests import reads as request_reads
from casehub.services.runtime import Scope

K = TypeVar("K")
V = TypeVar("V")


def _loader(
    scope: Scope,
    fetch: Callable[[Scope, Sequence[Any]], Awaitable[dict[Any, Any]]],
    key_of: Callable[[Any], Any],
    default: Any,
    running: set[asyncio.Task[Any]],
) -> DataLoader[Any, Any]:
    async def load(keys: Sequence[Any]) -> list[Any]:
        # The batch runs in a task of the DataLoader's own, not the operation's: cancelling the
        # operation leaves it running on the request's session unless it is known.
        task = asyncio.current_task()
        assert task is not None  # a DataLoader batch always runs in a task
        running.add(task)
        try:
            found = await fetch(scope, keys)
        finally:
            running.discard(task)
        return [found.get(key_of(key), default() if callable(default) else default) for key in keys]

    return DataLoader(load_fn=load)


def _first(key: tuple[UUID, UUID]) -> UUID:
    return key[0]


def _same(key: UUID) -> UUID:
    return key


class Loaders:
    """The loaders of one request; DataLoader construction is cheap and batches nothing yet."""

    def __init__(self, scope: Scope) -> None:
        self._running: set[asyncio.Task[Any]] = set()
        running = self._running
        self.agency = _loader(scope, agencies.agencies_by_ids, _same, None, running)
        self.case = _loader(scope, cases.cases_by_ids, _same, None, running)
        self.subjects = _loader(scope, subjects.subjects_of_cases, _same, list, running)
        self.identifiers = _loader(scope, subjects.identifiers_of_subjects, _first, list, running)
        self.evidence = _loader(scope, evidence.evidence_of_cases, _same, list, running)
        self.custody = _loader(scope, evidence.custody_of_evidence, _first, list, running)
        self.shares = _loader(scope, sharing.shares_of_cases, _same, list, running)
        self.request_events = _loader(scope, request_reads.events_of, _first, list, running)
        self.request_messages = _loader(scope, request_reads.messages_of, _first, list, running)
        self.request_evidence = _loader(scope, request_reads.evidence_of, _first, list, running)

    async def settle(self) -> None:
        """Cancel the batches still running and wait for them, so that no query of a cut
        operation is left on its session when the session is closed."""
        while self._running:
            batches = list(self._running)
            for task in batches:
                task.cancel()
            await asyncio.gather(*batches, return_exceptions=True)
            self._running.difference_update(batches)
