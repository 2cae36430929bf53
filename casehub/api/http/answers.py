"""What every answer of /graphql goes through, over HTTP and over the websocket alike: the time
budget of its operation, the masking of errors without a code and the size cap."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from graphql import GraphQLError
from strawberry.types import ExecutionResult

from casehub.api.execution.extensions import unexpected
from casehub.api.http.gate import error_body
from casehub.api.loaders import Loaders

OPERATION_TIMEOUT = "OPERATION_TIMEOUT"
RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"


async def within_budget(
    budget: float, operation: Awaitable[ExecutionResult], loaders: Loaders
) -> ExecutionResult:
    """The operation's result, or OPERATION_TIMEOUT once it runs past `budget` seconds: it is
    then cancelled (its session, closed without a commit, rolls back what it had not
    committed). The executor yields to the event loop every few milliseconds
    (casehub.api.execution.fast_path), so the budget fires on CPU-bound work too."""
    timeout = asyncio.timeout(budget)
    try:
        async with timeout:
            return await operation
    except TimeoutError:
        if not timeout.expired():
            raise  # not ours: a timeout inside the operation
    await loaders.settle()
    return ExecutionResult(
        data=None,
        errors=[
            GraphQLError(
                f"The operation ran past its time budget of {budget:g} s and was cancelled; "
                "nothing it had not committed was written. Ask for less.",
                extensions={"code": OPERATION_TIMEOUT, "limit": "timeBudget", "max": budget},
            )
        ],
    )


def coded(errors: list[GraphQLError] | None, request_id: str) -> list[GraphQLError] | None:
    """The errors of a result, each with a code. An error raised by an extension's hook skips
    the error policy (strawberry catches it outside the operation): it has no code, and is
    masked here rather than show its message (SERVICE_UNAVAILABLE when the database could not
    serve, e.g. the audit of decrypted fields found no free connection)."""
    return [
        error if (error.extensions or {}).get("code") else unexpected(error, request_id)
        for error in errors or []
    ] or None


def too_large(size: int, limit: int) -> dict[str, Any]:
    """The answer sent instead of one of `size` bytes, past the `limit`: built, but not sent,
    so the caller learns why and can ask for less."""
    return {
        "data": None,
        **error_body(
            f"The answer would take {size} bytes, more than the {limit} allowed: ask for "
            "fewer objects or fields.",
            RESPONSE_TOO_LARGE,
            limit="responseBytes",
            max=limit,
        ),
    }
