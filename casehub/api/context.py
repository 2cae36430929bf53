"""Per-request state that travels in the GraphQL context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as _Info

from casehub.api.loaders import Loaders
from casehub.services.runtime import Scope


@dataclass
class Context:
    """The request's scope (session, principal) and its DataLoaders."""

    scope: Scope
    loaders: Loaders
    request: Any = None
    response: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


Info = _Info[Context, None]
