"""Where compiled plans run: a schema extension that answers a supported query from its plan
and lets the standard executor answer everything else. Only registered documents (sent by id,
by APQ hash, or as text whose hash is registered: casehub.api.http.documents) are planned, so
the plans compiled are those of the documents agency tools ship, not whatever a caller sends.

It runs inside strawberry's pipeline, after parsing (cached), the query limits, validation and
the transport check, and before the audit of decrypted fields is flushed (AuditReads, whose
after-hook runs once execution ends): an operation served by a plan is parsed, limited,
costed, validated, named in the access log and audited exactly as any other. It only sets the
execution result, which makes strawberry skip graphql-core's executor.

Errors and null propagation are the standard executor's by construction: a plan answers only
when its run completes without any error (no refusal, no null in a non-null position, no value
its type does not serialize). Otherwise the run's partial work is discarded (the read-audit
records it added to `scope.reads` are restored to their snapshot; the loaders it used are
cleared) and the standard executor runs the operation from the start. A run is never partly
used. The services a plan calls read only (an identifier filter, whose search is audited,
falls back before any call).

`ENABLED` turns plans off for the process (measurements, or a doubt in production).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from graphql import DocumentNode, GraphQLSchema
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from casehub.api.context import Context
from casehub.api.execution.plans.compile import Plan, compile_operation
from casehub.api.execution.plans.run import run

log = logging.getLogger("casehub.api.plans")

ENABLED = True
CACHE_SIZE = 256  # compiled documents kept (a None for those not supported)
# How operations went: "planned" (answered by a plan), "fallback" (a plan's run gave way to
# the standard executor), "unsupported" (no plan for the document).
STATS: Counter[str] = Counter()

_plans: OrderedDict[tuple[int, bytes, str | None], Plan | None] = OrderedDict()


def plan_for(
    schema: GraphQLSchema, query: str, document: DocumentNode, operation_name: str | None
) -> Plan | None:
    """The plan of the document's operation, compiled once per (schema, text, operation name)
    and kept in a bounded LRU; None where it is not supported."""
    key = (id(schema), hashlib.sha256(query.encode("utf-8")).digest(), operation_name)
    if key in _plans:
        _plans.move_to_end(key)
        plan = _plans[key]
        if plan is None or plan.schema is schema:  # an id reused by another schema: compile
            return plan
    plan = compile_operation(schema, document, operation_name)
    _plans[key] = plan
    while len(_plans) > CACHE_SIZE:
        _plans.popitem(last=False)
    return plan


async def answer(plan: Plan, context: Context, variables: dict[str, Any] | None) -> Any:
    """The plan's data, or None (nothing of the attempt kept) for the standard executor."""
    scope = context.scope
    reads = {
        owner: {key: set(names) for key, names in objects.items()}
        for owner, objects in scope.reads.items()
    }
    try:
        data = await run(plan, scope, context.loaders, variables)
    except Exception as error:  # any error: the standard executor answers
        scope.reads = reads
        for name in plan.loaders:
            getattr(context.loaders, name).clear_all()
        STATS["fallback"] += 1
        log.debug("plan gave way to the standard executor: %s", type(error).__name__)
        return None
    STATS["planned"] += 1
    return data


class CompiledPlans(SchemaExtension):
    """Answer a supported query (over HTTP) from its compiled plan."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        document = execution.graphql_document
        if (
            ENABLED
            and type(context) is Context
            and context.registered
            and document is not None
            and execution.result is None
            and execution.operation_type is OperationType.QUERY
        ):
            schema = execution.schema._schema
            plan = plan_for(
                schema, execution.query or "", document, execution._provided_operation_name
            )
            if plan is None:
                STATS["unsupported"] += 1
            else:
                data = await answer(plan, context, execution.variables)
                if data is not None:
                    execution.result = GraphQLExecutionResult(data=data, errors=None)
        yield
