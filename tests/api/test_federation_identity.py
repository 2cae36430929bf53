"""GET /federation/v1/identity through the real app, on both engines: the hub's self-signed
document, public and cacheable; 404 with the federation error shape on a hub with none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from casehub.app import build_runtime, create_app
from casehub.config import Environment, Settings
from casehub.crypto import create_keyring
from casehub.crypto.hub_identity import HubIdentity, HubPublicIdentity
from casehub.crypto.rotation import add_hub_identity

PATH = "/federation/v1/identity"


@asynccontextmanager
async def app_client(database_url: str, keyring: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the real app with this keyring."""
    settings = Settings(env=Environment.PRODUCTION, database_url=database_url, keyring=keyring)
    runtime = build_runtime(settings)
    app = create_app(settings, runtime=runtime)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://casehub.test") as http:
            yield http
    finally:
        await runtime.database.dispose()


@pytest.fixture(scope="module")
def federated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, HubIdentity]:
    path = tmp_path_factory.mktemp("federated") / "keyring.json"
    create_keyring(path)
    return path, add_hub_identity(path, "MY")


async def test_the_hub_serves_its_self_signed_document(database_url, federated):
    keyring, identity = federated
    async with app_client(database_url, keyring) as http:
        first = await http.get(PATH)
        second = await http.get(PATH)
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.headers["cache-control"] == "public, max-age=300"
    served = HubPublicIdentity.from_signed_document(first.json())
    assert served == identity.public
    assert served.fingerprint() == identity.public.fingerprint()
    assert second.content == first.content  # signed once, not per request


async def test_no_token_is_needed_and_a_token_changes_nothing(database_url, federated):
    keyring, _identity = federated
    async with app_client(database_url, keyring) as http:
        anonymous = await http.get(PATH)
        with_junk = await http.get(PATH, headers={"Authorization": "Bearer not-a-token"})
    assert with_junk.status_code == 200
    assert with_junk.content == anonymous.content


async def test_only_get_is_allowed(database_url, federated):
    keyring, _identity = federated
    async with app_client(database_url, keyring) as http:
        response = await http.post(PATH, json={})
    assert response.status_code == 405


async def test_a_hub_without_an_identity_answers_404_not_federated(database_url, tmp_path):
    keyring = tmp_path / "keyring.json"
    create_keyring(keyring)
    async with app_client(database_url, keyring) as http:
        response = await http.get(PATH)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "NOT_FEDERATED"
    assert "casehub federation init" in error["message"]
