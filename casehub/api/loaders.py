"""DataLoaders, one set per request, each batching into one service call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from strawberry.dataloader import DataLoader

from casehub.services import agencies, cases, evidence, request_reads, sharing, subjects
from casehub.services.runtime import Scope

K = TypeVar("K")
V = TypeVar("V")


def _loader(
    scope: Scope,
    fetch: Callable[[Scope, Sequence[Any]], Awaitable[dict[Any, Any]]],
    key_of: Callable[[Any], Any],
    default: Any,
) -> DataLoader[Any, Any]:
    async def load(keys: Sequence[Any]) -> list[Any]:
        found = await fetch(scope, keys)
        return [found.get(key_of(key), default() if callable(default) else default) for key in keys]

    return DataLoader(load_fn=load)


def _first(key: tuple[UUID, UUID]) -> UUID:
    return key[0]


def _same(key: UUID) -> UUID:
    return key


class Loaders:
    """The loaders of one request; DataLoader construction is cheap and batches nothing yet."""

    def __init__(self, scope: Scope) -> None:
        self.agency = _loader(scope, agencies.agencies_by_ids, _same, None)
        self.case = _loader(scope, cases.cases_by_ids, _same, None)
        self.subjects = _loader(scope, subjects.subjects_of_cases, _same, list)
        self.identifiers = _loader(scope, subjects.identifiers_of_subjects, _first, list)
        self.evidence = _loader(scope, evidence.evidence_of_cases, _same, list)
        self.custody = _loader(scope, evidence.custody_of_evidence, _first, list)
        self.shares = _loader(scope, sharing.shares_of_cases, _same, list)
        self.request_events = _loader(scope, request_reads.events_of, _first, list)
        self.request_messages = _loader(scope, request_reads.messages_of, _first, list)
        self.request_evidence = _loader(scope, request_reads.evidence_of, _first, list)
