"""Per-request state that travels in the GraphQL context."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from strawberry.types import Info as _Info

from casehub.api.loaders import Loaders
from casehub.services.runtime import Principal, Runtime, Scope


@dataclass
class Context:
    """The request's scope (session, principal) and its DataLoaders."""

    scope: Scope
    loaders: Loaders
    request: Any = None
    response: Any = None
    # Whether the operation is a registered document (by id, by APQ hash, or text whose hash
    # is registered): only those are answered by compiled plans.
    registered: bool = False


# The scope a subscription is rendering a batch in, or a query or mutation runs in. Each
# operation on a websocket runs in its own task, so concurrent operations of one connection
# never see each other's scope (nor share its session).
_batch: ContextVar[tuple[Scope, Loaders] | None] = ContextVar("casehub_batch", default=None)


class SocketContext(Context):
    """One websocket connection: its principal, set at `connection_init`, and no shared session.

    Subscriptions read in a fresh scope per batch and bind it with `bind` while their results
    are rendered; a query or mutation binds a scope of its own while it runs. Outside those,
    `scope` is the connection's own scope, used only to authenticate (its session holds no
    transaction between uses)."""

    def __init__(self, connection_scope: Scope, request: Any, response: Any) -> None:
        self._connection = (connection_scope, Loaders(connection_scope))
        self.request = request
        self.response = response
        self.connection_params: dict[str, object] = {}
        # What authenticated the socket at connection_init: each query or mutation checks it
        # again, as each HTTP request does, so a token revoked or expired since acts no more.
        self.authorization: str | None = None

    @property
    def scope(self) -> Scope:  # type: ignore[override]
        """The scope of the batch being rendered or the operation running, else the
        connection's."""
        return (_batch.get() or self._connection)[0]

    @property
    def loaders(self) -> Loaders:  # type: ignore[override]
        """The loaders of the batch being rendered or the operation running, else the
        connection's."""
        return (_batch.get() or self._connection)[1]

    @property
    def runtime(self) -> Runtime:
        """The process-wide runtime."""
        return self._connection[0].runtime

    @property
    def principal(self) -> Principal | None:
        """Who authenticated at connection_init (None before)."""
        return self._connection[0].principal

    @contextlib.contextmanager
    def bind(self, scope: Scope) -> Iterator[Loaders]:
        """Render with this scope (and fresh loaders) in the current task until the block ends."""
        scope.request_id = scope.request_id or self._connection[0].request_id  # for the logs
        loaders = Loaders(scope)
        token = _batch.set((scope, loaders))
        try:
            yield loaders
        finally:
            # A generator closed from another context (interpreter shutdown) cannot reset.
            with contextlib.suppress(ValueError):
                _batch.reset(token)


Info = _Info[Context, None]
