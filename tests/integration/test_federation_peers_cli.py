"""`casehub federation init | identity | peers add | list | remove` as subprocesses, between two
real `casehub serve` hubs on loopback, each with its own keyring and database (one SQLite, one
PostgreSQL, both ways round): the operator's whole peering runbook and its mistakes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.federation_delivery_support import casehub, ok, refused
from tests.integration.servers import Hub
from tests.integration.test_cli import free_port
from tests.postgres import fresh_postgres, require_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(params=["MY on SQLite", "MY on PostgreSQL"])
def hubs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Hub, Hub]]:
    """Two hubs, MY and FR, migrated, with keyrings but no identity yet; one on each engine."""
    require_postgres("the two-hub federation test")
    with ExitStack() as stack:
        postgres = stack.enter_context(fresh_postgres("casehub_fed"))
        sqlite = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        urls = (sqlite, postgres) if request.param == "MY on SQLite" else (postgres, sqlite)
        pair = []
        for name, url in zip(("MY", "FR"), urls, strict=True):
            root = tmp_path / name
            root.mkdir()
            hub = Hub(root, url)
            stack.callback(hub.stop)
            hub.cli("keys", "init")
            hub.cli("db", "upgrade")
            pair.append(hub)
        yield pair[0], pair[1]


def serve(hub: Hub) -> str:
    base = hub.serve()
    hub.wait_ready(base)
    return base


def test_two_hubs_peer_by_fingerprint_and_every_mistake_is_refused(hubs):
    my, fr = hubs
    # Before init: no identity to show, and a refused name writes nothing.
    assert "casehub federation init" in refused(my, 1, "federation", "identity")
    keyring = (my.root / "keyring.json").read_bytes()
    assert "--name" in refused(my, 2, "federation", "init", "--name", " MY")
    assert (my.root / "keyring.json").read_bytes() == keyring

    mine = ok(my, "federation", "init", "--name", "MY")
    theirs = ok(fr, "federation", "init", "--name", "FR")
    assert set(mine) == {"hub", "name", "fingerprint"}
    assert mine["fingerprint"].startswith("sha256:")
    assert ok(my, "federation", "identity") == mine
    keyring = (my.root / "keyring.json").read_bytes()
    assert "already has a hub identity" in refused(my, 1, "federation", "init", "--name", "X")
    assert (my.root / "keyring.json").read_bytes() == keyring

    my_url, fr_url = serve(my), serve(fr)

    # The operator's mistakes: each is one line, exit 1 (2 for bad input), nothing pinned.
    wrong = "sha256:" + "0" * 64
    error = refused(my, 1, "federation", "peers", "add", "--url", fr_url, "--fingerprint", wrong)
    assert wrong in error
    assert theirs["fingerprint"] in error
    error = refused(
        my, 1, "federation", "peers", "add", "--url", my_url, "--fingerprint", mine["fingerprint"]
    )
    assert "own identity" in error
    closed = f"http://127.0.0.1:{free_port()}"
    error = refused(my, 1, "federation", "peers", "add", "--url", closed, "--fingerprint", wrong)
    assert "cannot be reached" in error
    error = refused(my, 1, "federation", "peers", "add", "--url", fr_url, "--fingerprint", "abc")
    assert "sha256:" in error
    assert ok(my, "federation", "peers", "list", "--removed") == []
    assert casehub(my, "federation", "peers", "list").stdout.strip() == "no peer hubs"

    # The runbook: each pins the other with the fingerprint given out of band.
    pinned = ok(
        my, "federation", "peers", "add", "--url", fr_url, "--fingerprint", theirs["fingerprint"]
    )
    assert {key: pinned[key] for key in ("hub", "name", "url", "fingerprint")} == {
        "hub": theirs["hub"],
        "name": "FR",
        "url": fr_url,
        "fingerprint": theirs["fingerprint"],
    }
    assert pinned["removed_at"] is None
    back = ok(
        fr, "federation", "peers", "add", "--url", my_url, "--fingerprint", mine["fingerprint"]
    )
    assert back["hub"] == mine["hub"]
    assert ok(my, "federation", "peers", "list") == [pinned]
    listing = casehub(my, "federation", "peers", "list").stdout
    assert theirs["hub"] in listing
    assert theirs["fingerprint"] in listing

    removed = ok(my, "federation", "peers", "remove", theirs["hub"])
    assert removed["removed_at"] is not None
    assert ok(my, "federation", "peers", "list") == []
    assert [peer["hub"] for peer in ok(my, "federation", "peers", "list", "--removed")] == [
        theirs["hub"]
    ]
    assert "No pinned peer" in refused(my, 1, "federation", "peers", "remove", theirs["hub"])
    assert "not a hub id" in refused(my, 2, "federation", "peers", "remove", "FR")
