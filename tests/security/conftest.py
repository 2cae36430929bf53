"""Fixtures the security suites share: the app with default limits, a token, resolver calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from casehub.services.runtime import Runtime
from tests.security.gate_support import ResolverCalls, serving


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the default limits."""
    async with serving(runtime) as client:
        yield client


@pytest.fixture
def resolvers(monkeypatch: pytest.MonkeyPatch) -> ResolverCalls:
    """Counts resolver calls, to show a refusal ran none."""
    return ResolverCalls(monkeypatch)


@pytest.fixture
async def token(world: Any) -> str:
    """A token of a new agency holding every agency role."""
    agency = await world.agency("SEC")
    value: str = agency.token
    return value
