"""Run a plan: the root service call, then one batched loader call per relation and level,
then plain dicts in selection order, serialized by the schema's own leaf types.

Any error (a refusal, a null where the schema says non-null, a value its type does not
serialize) raises: the caller (casehub.api.execution.plans.extension) then lets the standard
executor answer instead. The run yields to the event loop once a time slice is spent, as the
fast executor does, so that a large answer neither holds the loop nor escapes the time budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Undefined

from casehub.api.execution.fast_path import SLICE
from casehub.api.execution.plans.compile import (
    Connection,
    Leaf,
    Nested,
    ObjectPlan,
    Part,
    Plan,
    Relation,
    Typename,
)
from casehub.api.ids import to_cursor
from casehub.api.loaders import Loaders
from casehub.services.runtime import Scope

CHECK_EVERY = 256  # values between two readings of the clock


class Fallback(Exception):
    """The plan cannot give the answer the standard executor would: let it answer."""


class _Pace:
    """The run's time slice, as in casehub.api.execution.fast_path."""

    __slots__ = ("since", "values")

    def __init__(self) -> None:
        self.since = time.monotonic()
        self.values = 0

    async def tick(self, values: int) -> None:
        self.values += values
        if self.values >= CHECK_EVERY:
            self.values = 0
            if time.monotonic() - self.since > SLICE:
                await asyncio.sleep(0)
                self.since = time.monotonic()


async def run(
    plan: Plan, scope: Scope, loaders: Loaders, variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The data of the operation; Fallback (or the service's error) where it cannot be given."""
    coerced = get_variable_values(
        plan.schema, plan.operation.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):
        raise Fallback("variables")
    pace = _Pace()
    data: dict[str, Any] = {}
    for root in plan.roots:
        if isinstance(root, Typename):
            data[root.key] = root.name
        else:
            arguments = get_argument_values(root.field, root.node, coerced)
            data[root.key] = await _connection(root, arguments, scope, loaders, pace)
    return data


async def _connection(
    root: Connection, arguments: dict[str, Any], scope: Scope, loaders: Loaders, pace: _Pace
) -> dict[str, Any]:
    page = await root.fetch(scope, arguments, root.sealed)
    items = page.items
    cursors = [to_cursor(item.id) for item in items]
    out: dict[str, Any] = {}
    for part in root.parts:
        if part.name == "__typename":
            out[part.key] = part.typename
        elif part.name == "totalCount":
            out[part.key] = None  # filled last, as the standard executor resolves it
        elif part.name == "pageInfo":
            end = cursors[-1] if cursors else None
            out[part.key] = {
                sub.key: {
                    "hasNextPage": page.has_next_page,
                    "endCursor": end,
                    "__typename": sub.typename,
                }[sub.name]
                for sub in part.parts
            }
        else:
            out[part.key] = await _edges(part, items, cursors, scope, loaders, pace)
    for part in root.parts:
        if part.name == "totalCount":
            out[part.key] = await page.count(scope)
    return out


async def _edges(
    part: Part,
    items: Sequence[Any],
    cursors: list[str],
    scope: Scope,
    loaders: Loaders,
    pace: _Pace,
) -> list[dict[str, Any]]:
    edges: list[dict[str, Any]] = [{} for _ in items]
    for sub in part.parts:
        if sub.node is not None:
            nodes = await _objects(sub.node, items, scope, loaders, pace)
            for edge, node in zip(edges, nodes, strict=True):
                edge[sub.key] = node
        else:
            value = sub.typename if sub.name == "__typename" else None
            for edge, cursor in zip(edges, cursors, strict=True):
                edge[sub.key] = cursor if value is None else value
    return edges


async def _objects(
    plan: ObjectPlan, views: Sequence[Any], scope: Scope, loaders: Loaders, pace: _Pace
) -> list[dict[str, Any]]:
    """The objects of one level. Its leaves first, for every object (the standard executor
    completes them before any relation's batch answers: the same order of decryptions), then
    each relation with one batch; each object's keys in selection order."""
    out: list[dict[str, Any]] = [{} for _ in views]
    for field in plan.fields:
        key = field.key
        if isinstance(field, Leaf):
            for view, obj in zip(views, out, strict=True):
                obj[key] = _leaf(field, view, scope)
            await pace.tick(len(views))
        elif isinstance(field, Typename):
            for obj in out:
                obj[key] = field.name
        else:
            for obj in out:
                obj[key] = None  # its place in the key order; filled below
    for field in plan.fields:
        if isinstance(field, Nested):
            children = await _objects(field.child, views, scope, loaders, pace)
            for obj, child in zip(out, children, strict=True):
                obj[field.key] = child
        elif isinstance(field, Relation):
            await _relation(field, views, out, scope, loaders, pace)
    return out


def _leaf(field: Leaf, view: Any, scope: Scope) -> Any:
    sealed = field.sealed
    value = getattr(view, sealed).reveal(scope) if sealed is not None else field.read(view)
    if value is None:
        if field.non_null:
            raise Fallback("a null for a non-null field")
        return None
    serialized = field.serialize(value)
    if serialized is None or serialized is Undefined:
        raise Fallback("a value its type does not serialize")
    return serialized


async def _relation(
    field: Relation,
    views: Sequence[Any],
    out: list[dict[str, Any]],
    scope: Scope,
    loaders: Loaders,
    pace: _Pace,
) -> None:
    keys = [field.key_of(view) for view in views]
    wanted = [key for key in keys if key is not None]
    found: Iterator[Any] = iter(await getattr(loaders, field.loader).load_many(wanted))
    if field.many:
        lists: list[list[Any]] = [next(found) if key is not None else [] for key in keys]
        children = iter(
            await _objects(
                field.child, [item for items in lists for item in items], scope, loaders, pace
            )
        )
        for obj, items in zip(out, lists, strict=True):
            obj[field.key] = [next(children) for _ in items]
        return
    values = [next(found) if key is not None else None for key in keys]
    present = [value for value in values if value is not None]
    built = iter(await _objects(field.child, present, scope, loaders, pace))
    for obj, value in zip(out, values, strict=True):
        if value is None and field.non_null:
            raise Fallback("a null for a non-null field")
        obj[field.key] = None if value is None else next(built)
