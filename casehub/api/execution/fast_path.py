"""An executor that serves leaf fields without graphql-core's per-field machinery.

Most fields of a page (ids, titles, statuses, dates) are plain attributes of a view object
with a scalar or enum type, and most of the rest reveal a sealed value. graphql-core builds a
resolve-info object, parses arguments and walks `complete_value` for each of them; here such a
field is read (or revealed, through the same `Sealed.reveal` and so the same key check and read
audit) and coerced directly. Every other field (other resolvers, objects, lists, arguments)
takes the standard path.

The executor is also cooperative: graphql-core completes a large answer without awaiting
anything, which would hold the event loop (and every other request, /healthz included) for as
long as it takes, and let no time budget fire. Every few fields it reads the clock; once a time
slice has passed, the next field waits for one turn of the event loop first.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, Undefined, gather_with_cancel
from graphql.type import GraphQLNonNull
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# What strawberry names the resolver of a field that is a plain attribute (no resolver, no
# arguments, no field extension): it reads the attribute and ignores the info object.
_BASIC_RESOLVER = "_get_basic_result"
_REVEALS = "__casehub_reveals__"
_DEFINITION = "strawberry-definition"  # where strawberry keeps its field on a GraphQLField

Resolver = TypeVar("Resolver", bound=Callable[..., Any])

# Fields between two readings of the clock, and the longest the executor runs between two
# turns of the event loop (seconds). A clock reading costs ~50 ns, lost in the noise of a
# field served the standard way; leaf fields served at once are neither counted nor deferred.
CHECK_EVERY = 8  # fields the standard way (each costs far more than a clock reading)
SLICE = 0.01
WAKE = 64  # deferred fields woken in one turn, to share its slice
LONG_LIST = 256  # items: a list this long or shorter is completed at once

# An operation cut by its time budget drops the fields it had deferred without starting them;
# Python would warn about each when it is freed. Only these coroutines are silenced.
warnings.filterwarnings(
    "ignore",
    message=r"coroutine '(FastExecutor|Executor)\.[\w.<>]+' was never awaited",
    category=RuntimeWarning,
)


def reveals(attribute: str) -> Callable[[Resolver], Resolver]:
    """Mark a resolver that only returns `self.<attribute>.reveal(info.context.scope)`."""

    def mark(resolver: Resolver) -> Resolver:
        setattr(resolver, _REVEALS, attribute)
        return resolver

    return mark


@dataclass(frozen=True, slots=True)
class Shape:
    """How to serve a leaf field at once: read `attribute`, or reveal the sealed value in it."""

    leaf: GraphQLLeafType
    non_null: bool
    sealed: str | None  # the attribute holding a Sealed value, for revealing fields


def _shape(field: GraphQLField) -> Shape | None:
    """The short way to serve a field, when it has one."""
    kind = field.type
    non_null = isinstance(kind, GraphQLNonNull)
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if field.resolve is None or field.args or not is_leaf_type(inner):
        return None
    if getattr(field.resolve, "__name__", "") == _BASIC_RESOLVER:
        return Shape(inner, non_null, None)
    definition = (field.extensions or {}).get(_DEFINITION)
    resolver = getattr(getattr(definition, "base_resolver", None), "wrapped_func", None)
    sealed = getattr(resolver, _REVEALS, None)
    if sealed is None or getattr(definition, "extensions", None):
        return None
    return Shape(inner, non_null, sealed)


class _Pace:
    """When the executor last let the event loop run, whether fields wait for the next turn,
    and the fields waiting; shared by the sub-executors graphql-core copies from the first
    (shallow copies)."""

    __slots__ = ("batches", "deferring", "fields", "releasing", "since", "sliced", "waiting")

    def __init__(self) -> None:
        self.fields = 0
        self.since = time.monotonic()
        self.deferring = False
        self.waiting: deque[asyncio.Future[int]] = deque()
        self.releasing = False
        self.batches = 0  # batches of waiting fields woken so far
        self.sliced = 0  # the batch whose first field started the current slice

    def spent(self) -> bool:
        """Whether the time slice since the last turn is used up."""
        return time.monotonic() - self.since > SLICE

    async def turn(self) -> None:
        """Wait for a later turn of the event loop (other requests run meanwhile, and a
        cancellation lands here). The fields woken in one turn share one time slice: the
        first to resume starts it, the next ones run while it lasts and, once it is spent,
        wait for a later turn again."""
        loop = asyncio.get_running_loop()
        while True:
            waiter: asyncio.Future[int] = loop.create_future()
            self.waiting.append(waiter)
            if not self.releasing:
                self.releasing = True
                loop.call_soon(self._release)
            batch = await waiter
            if batch != self.sliced:  # the first of its batch to resume
                self.sliced = batch
                self.since = time.monotonic()
                self.deferring = False
                return
            if not self.spent():
                return

    def _release(self) -> None:
        """Wake the fields waiting (at most WAKE at once); come back in the next turn for
        those that wait again."""
        woken = 0
        self.batches += 1
        while self.waiting and woken < WAKE:
            waiter = self.waiting.popleft()
            if not waiter.done():  # a cancelled operation's fields are done
                waiter.set_result(self.batches)
                woken += 1
        if self.waiting or woken:
            # Scheduled after the fields' own wake-ups: it runs in the turn after them.
            asyncio.get_running_loop().call_soon(self._release)
        else:
            self.releasing = False


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, with a short path for plain leaf fields, yielding to the event
    loop at least every SLICE seconds of execution."""

    # Per field definition (they live as long as the schema): its short way, or None.
    _shapes: dict[int, Shape | None] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pace = _Pace()

    async def _after_a_turn(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        await self._pace.turn()
        value = super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
        return await value if self.is_awaitable(value) else value

    def _standard(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """A field the standard way; once the time slice is spent, after a turn of the event
        loop (graphql-core takes an awaitable for any field's value), so that the rest of a
        large answer is not completed before the loop runs again. Leaf fields served at once
        are never deferred: they are cheap, and as many as their object's selection."""
        pace = self._pace
        pace.fields += 1
        if pace.deferring or (not pace.fields % CHECK_EVERY and pace.spent()):
            pace.deferring = True
            return self._after_a_turn(
                parent_type, source, field_details_list, path, position_context
            )
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    async def with_abort_signal(self, awaitable: Any) -> Any:
        """A resolver's awaited value (a DataLoader's, most often); once the time slice is
        spent, completed only after a turn of the event loop. One loader answer wakes every
        field waiting on it in the same turn of the loop, which runs them all before it looks
        at a socket again: without this, thousands of fields would complete their objects in
        that one turn."""
        value = await super().with_abort_signal(awaitable)
        pace = self._pace
        if pace.deferring or pace.spent():
            pace.deferring = True
            await pace.turn()
        return value

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> Any:
        """A long list is completed in turns of the event loop; a short one graphql-core's
        way (every item of a long list would otherwise be completed, or deferred, at once)."""
        if not isinstance(items, list) or len(items) <= LONG_LIST:
            return super().complete_iterable_value(
                item_type, field_details_list, info, path, items, position_context
            )
        return self._complete_in_turns(
            item_type, field_details_list, info, path, items, position_context
        )

    async def _complete_in_turns(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: list[Any],
        position_context: Any,
    ) -> list[Any]:
        # graphql-core's complete_iterable_value, with a turn whenever the slice is spent.
        pace = self._pace
        completed: list[Any] = []
        pending: list[int] = []
        try:
            for index, item in enumerate(items):
                if not index % CHECK_EVERY and (pace.deferring or pace.spent()):
                    await pace.turn()
                item_path = path.add_key(index, None)
                if self.is_awaitable(item):
                    completed.append(
                        self.complete_awaitable_list_item_value(
                            item, item_type, field_details_list, info, item_path, position_context
                        )
                    )
                    pending.append(index)
                elif self.complete_list_item_value(
                    item,
                    completed,
                    item_type,
                    field_details_list,
                    info,
                    item_path,
                    position_context,
                ):
                    pending.append(index)
        except BaseException:
            # Cut (the time budget) or failed: the answer is dropped, so is its pending work.
            for index in pending:
                if inspect.iscoroutine(completed[index]):
                    completed[index].close()
            raise
        if pending:
            values = await gather_with_cancel(*(completed[index] for index in pending))
            for index, value in zip(pending, values, strict=True):
                completed[index] = value
        return completed

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """Serve a plain or revealing leaf field at once; anything else the standard way."""
        node = field_details_list[0].node
        field = self.schema.get_field(parent_type, node.name.value)
        if field is None or node.arguments or self.middleware_manager:
            return self._standard(parent_type, source, field_details_list, path, position_context)
        key = id(field)
        try:
            shape = self._shapes[key]
        except KeyError:
            shape = self._shapes[key] = _shape(field)
        if shape is None:
            return self._standard(parent_type, source, field_details_list, path, position_context)
        try:
            if shape.sealed is None:
                value = field.resolve(source, None)  # type: ignore[misc]  # basic: info unused
            else:
                value = getattr(source, shape.sealed).reveal(self.context_value.scope)
            if value is None or value is Undefined:
                if shape.non_null:
                    name = f"{parent_type}.{node.name.value}"
                    raise TypeError(f"Cannot return null for non-nullable field {name}.")
                return None
            return self.complete_leaf_value(shape.leaf, value)
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None
