"""One live server per client module (tests/clients/live.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clients.live import World, serve


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve(tmp_path_factory.mktemp("clients")) as live:
        yield live
