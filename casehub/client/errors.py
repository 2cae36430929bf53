"""What the client raises besides the generated package's transport errors (GraphQLClientError
and its subclasses: an HTTP refusal such as 401, or GraphQL errors in the response)."""

from __future__ import annotations

from collections.abc import Sequence

from casehub.client.generated import UserErrorFields


class CasehubClientError(Exception):
    """The base of the errors the client itself raises."""


class Refused(CasehubClientError):
    """The hub refused a mutation with typed errors (its payload's `errors`)."""

    def __init__(self, errors: Sequence[UserErrorFields]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(f"{error.code.value}: {error.message}" for error in errors))

    @property
    def code(self) -> str:
        """The first error's code (an ErrorCode value such as "FORBIDDEN")."""
        return self.errors[0].code.value


class NotFound(CasehubClientError):
    """No cooperation request of this id is visible to the token's agency."""


class InboxClosed(CasehubClientError):
    """The hub closed the inbox's websocket: `code` 4401 (the token or proof did not
    authenticate), 4403 (no agency role), 4429 (rate limited, or too many sockets), 1013
    (try again later) or another close code. Follow again with `since` = the last seq seen."""

    def __init__(self, code: int | None, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"The inbox was closed ({code}): {reason or 'no reason given'}.")
