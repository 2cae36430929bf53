"""`casehub token dpop-key` and `casehub token issue --bind dpop --jwk FILE`: the client makes
its key pair, the operator binds a token to the public half, and only proofs by the private
half make the token work."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
import subprocess
from pathlib import Path

import httpx
import pytest

from casehub.app import build_runtime, create_app
from casehub.crypto import dpop as proofs
from tests.integration.test_cli import Home, clone, run_all

ISSUE = ("token", "issue", "--agency", "MY-PDRM", "--role", "READER")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A migrated database with MY-PDRM and one bearer token."""
    home = Home(tmp_path_factory.mktemp("dpop"))
    home.ok("keys", "init")
    home.ok("db", "upgrade")
    home.ok(
        *("agency", "add", "--code", "MY-PDRM", "--name", "Royal Malaysia Police"),
        *("--jurisdiction", "MY", "--kind", "LAW_ENFORCEMENT"),
    )
    home.ok(*ISSUE)
    return home


@pytest.fixture
def agency_home(seeded: Home, tmp_path: Path) -> Home:
    """This test's own copy of the seeded database."""
    return clone(seeded, tmp_path / "home")


def said(result: subprocess.CompletedProcess[str]) -> str:
    """stderr without the frame and line breaks typer draws around an error."""
    return " ".join(result.stderr.replace("│", " ").split())


def tokens(home: Home) -> list[tuple[str, str | None]]:
    with sqlite3.connect(home.db) as db:
        rows = db.execute("SELECT token_hash, dpop_jkt FROM api_token").fetchall()
    db.close()
    return [(str(digest), jkt) for digest, jkt in rows]


def test_dpop_key_writes_a_private_key_file_and_prints_the_public_key(
    agency_home: Home, tmp_path: Path
) -> None:
    path = tmp_path / "dpop.jwk"
    public = json.loads(agency_home.ok("token", "dpop-key", "--output", str(path)))
    private = json.loads(path.read_text(encoding="utf-8"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "d" not in public
    assert proofs.public_jwk(private) == public
    # Never over an existing file (it may be the key a token is bound to).
    again = agency_home.run("token", "dpop-key", "--output", str(path))
    assert again.returncode == 2
    assert "File exists" in said(again)
    assert json.loads(path.read_text(encoding="utf-8")) == private


async def test_a_token_issued_bound_works_only_with_proofs_by_its_key(
    agency_home: Home, tmp_path: Path
) -> None:
    key_file, public_file = tmp_path / "dpop.jwk", tmp_path / "dpop.pub.jwk"
    public_file.write_text(agency_home.ok("token", "dpop-key", "--output", str(key_file)))
    issued = json.loads(
        agency_home.ok(*ISSUE, "--bind", "dpop", "--jwk", str(public_file), "--json")
    )
    jkt = proofs.thumbprint(json.loads(public_file.read_text(encoding="utf-8")))
    listed = json.loads(agency_home.ok("token", "list", "--json"))
    assert [row["dpopKey"] for row in listed] == [None, jkt]
    assert listed[1]["id"] == issued["id"]
    assert "DPOP-KEY" in agency_home.ok("token", "list").splitlines()[0]

    key = json.loads(key_file.read_text(encoding="utf-8"))
    token = issued["token"]
    runtime = build_runtime(agency_home.settings())
    transport = httpx.ASGITransport(app=create_app(agency_home.settings(), runtime=runtime))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:

            async def status(headers: dict[str, str]) -> int:
                response = await http.post(
                    "/graphql", json={"query": "{ viewer { name } }"}, headers=headers
                )
                return response.status_code

            proof = proofs.make_proof(
                key, method="POST", url="http://hub.test/graphql", token=token
            )
            assert await status({"Authorization": f"DPoP {token}", "DPoP": proof}) == 200
            assert await status({"Authorization": f"Bearer {token}"}) == 401
    finally:
        await runtime.database.dispose()


def test_bind_needs_a_public_key_of_a_supported_kind(agency_home: Home, tmp_path: Path) -> None:
    private, rsa, broken = tmp_path / "private.jwk", tmp_path / "rsa.jwk", tmp_path / "x.jwk"
    agency_home.ok("token", "dpop-key", "--output", str(private))
    rsa.write_text(json.dumps({"kty": "RSA", "n": "AQAB", "e": "AQAB"}))
    broken.write_text("{not json")
    before = tokens(agency_home)
    runs = run_all(
        (agency_home, (*ISSUE, "--bind", "dpop")),
        (agency_home, (*ISSUE, "--jwk", str(private))),
        (agency_home, (*ISSUE, "--bind", "dpop", "--jwk", str(private))),
        (agency_home, (*ISSUE, "--bind", "dpop", "--jwk", str(rsa))),
        (agency_home, (*ISSUE, "--bind", "dpop", "--jwk", str(broken))),
        (agency_home, (*ISSUE, "--bind", "dpop", "--jwk", str(tmp_path / "missing.jwk"))),
        (agency_home, (*ISSUE, "--bind", "mtls", "--jwk", str(private))),
    )
    expected = [
        "--bind dpop and --jwk FILE together",
        "--bind dpop and --jwk FILE together",
        "Give the public key only",
        "The key must be one of: EC P-256, OKP Ed25519.",
        "x.jwk",
        "missing.jwk",
        "mtls",
    ]
    for result, message in zip(runs, expected, strict=True):
        assert result.returncode != 0, result.stdout
        assert "chb_" not in result.stdout + result.stderr
        # Without any white space: typer's frame may break a long path anywhere.
        assert message.replace(" ", "") in "".join(said(result).split()), result.stderr
    assert tokens(agency_home) == before


async def test_token_list_and_revoke_cover_bound_tokens(agency_home: Home, tmp_path: Path) -> None:
    public = tmp_path / "pub.jwk"
    public.write_text(agency_home.ok("token", "dpop-key", "--output", str(tmp_path / "k.jwk")))
    issued = json.loads(agency_home.ok(*ISSUE, "--bind", "dpop", "--jwk", str(public), "--json"))
    revoked = await asyncio.to_thread(agency_home.ok, "token", "revoke", issued["id"], "--json")
    assert json.loads(revoked) == {"id": issued["id"], "revoked": True}
    rows = json.loads(agency_home.ok("token", "list", "--json"))
    assert rows[-1]["revoked"] is not None
    assert rows[-1]["dpopKey"] is not None
