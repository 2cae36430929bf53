"""UserError for mutation payloads, and the mapping from domain errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from casehub.api import enums as _registered  # noqa: F401  (registers the GraphQL enums)
from casehub.domain.errors import DomainError, ErrorCode, RateLimited, ValidationErrors

T = TypeVar("T")

# The most errors a payload lists (the cost of a query counts `errors` at this length): rules
# broken at once are few (the statements a request kind requires are fewer than ten).
USER_ERRORS_MAX = 10


@strawberry.type(description="A refusal the caller can act on; nothing was changed.")
class UserError:
    code: ErrorCode = strawberry.field(description="Machine-readable cause.")
    field: list[str] | None = strawberry.field(description="Path of the input field at fault.")
    message: str = strawberry.field(description="Human-readable explanation.")
    retry_after: int | None = strawberry.field(
        default=None,
        description="With RATE_LIMITED: whole seconds to wait before retrying; null otherwise.",
    )


def user_error(error: DomainError) -> UserError:
    """The payload form of a domain error."""
    wait = None
    if isinstance(error, RateLimited):
        # The extensions build on this module (through the limits' bounds): imported at use.
        from casehub.api.execution.extensions import retry_after

        wait = retry_after(error.retry_after)
    return UserError(code=error.code, field=error.field, message=error.message, retry_after=wait)


async def attempt(
    work: Callable[[], Awaitable[T]], *, raised: tuple[type[DomainError], ...] = ()
) -> tuple[T | None, list[UserError]]:
    """Run a service call; a domain refusal becomes a payload error instead of a result,
    except the `raised` kinds, which stay top-level errors."""
    try:
        return await work(), []
    except raised:
        raise
    except ValidationErrors as error:
        return None, [user_error(each) for each in error.errors[:USER_ERRORS_MAX]]
    except DomainError as error:
        return None, [user_error(error)]
