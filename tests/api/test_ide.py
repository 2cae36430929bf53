"""The development IDE over HTTP (casehub.api.http.ide): our page under its exact policy with no
inline script, GraphiQL's files served from the package with their types, integrity and long
cache lifetime, nothing of it in production, and a bootstrap that stores nothing. Its run in a
real browser: tests/browser/test_ide_browser.py."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

import httpx
import pytest

from casehub.api.http import ide
from casehub.config import Environment
from casehub.services.runtime import Runtime
from tests.security.gate_support import serving, with_settings

PAGE = {"Accept": "text/html"}
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "font-src data:; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)
FOLDER = Path(str(resources.files("casehub") / "static" / "graphiql"))
VENDORED = (
    "graphiql.min.js",
    "graphiql.min.css",
    "react.production.min.js",
    "react-dom.production.min.js",
)
LICENSES = ("graphiql-LICENSE", "react-LICENSE", "react-dom-LICENSE")
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@pytest.fixture
async def development(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(with_settings(runtime, env=Environment.DEVELOPMENT)) as client:
        yield client


@pytest.fixture
async def production(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(with_settings(runtime, env=Environment.PRODUCTION)) as client:
        yield client


def loaded(page: str) -> list[tuple[str, str]]:
    """(address, integrity) of every script and stylesheet the page loads."""
    tags = re.findall(r"<(?:script|link)\b[^>]*>", page)
    found = []
    for tag in tags:
        address = re.search(r'(?:src|href)="([^"]+)"', tag)
        integrity = re.search(r'integrity="([^"]+)"', tag)
        if address and not address.group(1).startswith("data:"):
            assert integrity, tag
            found.append((address.group(1), integrity.group(1)))
    return found


async def test_the_page_is_ours_under_the_exact_policy(development: httpx.AsyncClient) -> None:
    response = await development.get("/graphql", headers=PAGE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == POLICY
    assert ide.POLICY == POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert 'id="casehub-token-input"' in page  # the prompt comes first
    assert re.search(r'id="graphiql"[^>]*\bhidden\b', page)
    # No inline script of any kind: every <script> has a src, no handler attribute, no
    # javascript: address; and nothing from another origin.
    assert re.findall(r"<script\b[^>]*>", page) == re.findall(r"<script\b[^>]*\bsrc=[^>]*>", page)
    assert re.search(r"<script\b[^>]*>\s*[^<\s]", page) is None
    assert re.search(r"\son[a-z]+\s*=", page) is None
    assert "javascript:" not in page
    assert "https://" not in page
    assert "http://" not in page
    # The token input has no name: a form sent without the script would not carry it.
    assert re.search(r"<input\b[^>]*\bname=", page) is None


async def test_its_files_are_served_with_types_integrity_and_a_long_cache_life(
    development: httpx.AsyncClient,
) -> None:
    page = (await development.get("/graphql", headers=PAGE)).text
    addresses = loaded(page)
    assert sorted(address.split("?")[0].rsplit("/", 1)[1] for address, _ in addresses) == sorted(
        (*ide.SCRIPTS, *ide.STYLES)
    )
    for address, integrity in addresses:
        assert address.startswith(ide.PREFIX + "/"), address
        response = await development.get(address)
        assert response.status_code == 200, address
        assert response.headers["content-type"] == TYPES[Path(address.split("?")[0]).suffix]
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        digest = base64.b64encode(hashlib.sha384(response.content).digest()).decode()
        assert integrity == f"sha384-{digest}", address
        # The address changes with the content: a year's cache never serves a stale file.
        assert address.endswith("?v=" + hashlib.sha256(response.content).hexdigest()[:16])


@pytest.mark.parametrize(
    "name",
    ["README.md", "licenses", "graphiql.min.js.map", "..%2F..%2Fapp.py", "%2E%2E", "casehub-ide"],
)
async def test_nothing_else_is_served(development: httpx.AsyncClient, name: str) -> None:
    response = await development.get(f"{ide.PREFIX}/{name}")
    assert response.status_code == 404, response.text


async def test_production_serves_none_of_it(production: httpx.AsyncClient) -> None:
    page = await production.get("/graphql", headers=PAGE)
    assert page.status_code == 405, page.text
    for name in (*ide.SCRIPTS, *ide.STYLES):
        response = await production.get(f"{ide.PREFIX}/{name}")
        assert response.status_code == 404, name
        assert "graphiql" not in response.text.lower()


def test_the_bootstrap_stores_nothing_in_the_browser() -> None:
    script = (FOLDER / "casehub-ide.js").read_text()
    for storage in ("localStorage", "sessionStorage", "indexedDB", "document.cookie", "caches"):
        assert storage not in script, storage
    # GraphiQL gets the storage that keeps nothing, and the token travels as a bearer header on
    # HTTP and in connection_init.
    assert "storage: keepsNothing" in script
    assert "shouldPersistHeaders: false" in script
    assert "headers: { Authorization: authorization }" in script
    assert "wsConnectionParams: { Authorization: authorization }" in script
    assert "window.prompt" not in script
    assert "eval(" not in script


def test_the_vendored_files_are_those_the_readme_names_with_their_licenses() -> None:
    readme = (FOLDER / "README.md").read_text()
    for name in VENDORED:
        digest = hashlib.sha256((FOLDER / name).read_bytes()).hexdigest()
        rows = [row for row in readme.splitlines() if row.startswith(f"| `{name}` |")]
        assert len(rows) == 1, name
        assert rows[0].endswith(f"| `{digest}` |"), name
    for name in LICENSES:
        assert "MIT License" in (FOLDER / "licenses" / name).read_text(), name
        assert f"licenses/{name}" in readme
    for pinned in ("graphiql@3.8.3", "react@18.3.1", "react-dom@18.3.1"):
        assert pinned in readme
