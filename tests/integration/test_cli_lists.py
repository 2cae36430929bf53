"""The operator's read commands: --version, agency list, token list, --json, and long jobs
whose progress goes to stderr while stdout holds only the result."""

from __future__ import annotations

import asyncio
import json
from importlib.metadata import version
from pathlib import Path

import pytest

from casehub.crypto import activate_version, rotate_keyring
from tests.integration.test_cli import Home, clone, run_all
from tests.integration.test_key_lifecycle import make_home, open_case


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A migrated database with two agencies and three tokens, one of them revoked."""
    home = Home(tmp_path_factory.mktemp("listed"))
    home.ok("keys", "init")
    home.ok("db", "upgrade")
    for code, country in (("MY-PDRM", "MY"), ("FR-PARQUET-J3", "FR")):
        home.ok(
            *("agency", "add", "--code", code, "--name", f"{code} office"),
            *("--jurisdiction", country, "--kind", "LAW_ENFORCEMENT", "--timezone", "Asia/Tokyo"),
        )
    return home


def issue(home: Home, agency: str, *roles: str) -> dict[str, str]:
    flags = [part for role in roles for part in ("--role", role)]
    issued: dict[str, str] = json.loads(
        home.ok("token", "issue", "--agency", agency, *flags, "--json")
    )
    return issued


def test_version_is_the_package_version(tmp_path: Path) -> None:
    assert Home(tmp_path).ok("--version") == f"casehub {version('casehub')}\n"


def test_agency_list_as_text_and_json(listed: Home) -> None:
    text, as_json = run_all((listed, ("agency", "list")), (listed, ("agency", "list", "--json")))
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        "CODE           NAME                  JURISDICTION  KIND             TIMEZONE",
        "FR-PARQUET-J3  FR-PARQUET-J3 office  FR            LAW_ENFORCEMENT  Asia/Tokyo",
        "MY-PDRM        MY-PDRM office        MY            LAW_ENFORCEMENT  Asia/Tokyo",
    ]
    rows = json.loads(as_json.stdout)
    assert [{key: row[key] for key in ("code", "jurisdiction")} for row in rows] == [
        {"code": "FR-PARQUET-J3", "jurisdiction": "FR"},
        {"code": "MY-PDRM", "jurisdiction": "MY"},
    ]
    assert set(rows[0]) == {"id", "code", "name", "jurisdiction", "kind", "timezone"}


def test_token_list_shows_everything_but_the_secret(listed: Home, tmp_path: Path) -> None:
    home = clone(listed, tmp_path)
    first = issue(home, "MY-PDRM", "READER")
    second = issue(home, "MY-PDRM", "INVESTIGATOR", "READER")
    other = issue(home, "FR-PARQUET-J3", "HUB_ADMIN")
    revoked = json.loads(home.ok("token", "revoke", first["token"], "--json"))
    assert revoked == {"id": first["id"], "revoked": True}

    every, mine, text = run_all(
        (home, ("token", "list", "--json")),
        (home, ("token", "list", "--agency", "MY-PDRM", "--json")),
        (home, ("token", "list")),
    )
    rows = json.loads(every.stdout)
    assert [row["id"] for row in rows] == [first["id"], second["id"], other["id"]]
    assert rows[0]["revoked"] is not None
    assert rows[1] == {
        "id": second["id"],
        "agency": "MY-PDRM",
        "principal": "agency-tool",
        "roles": ["INVESTIGATOR", "READER"],
        "created": rows[1]["created"],
        "expires": rows[1]["expires"],
        "revoked": None,
        "dpopKey": None,
    }
    assert rows[1]["created"].endswith("Z")
    assert rows[1]["expires"] > rows[1]["created"]
    assert [row["id"] for row in json.loads(mine.stdout)] == [first["id"], second["id"]]
    assert text.stdout.splitlines()[0].split() == [
        *("ID", "AGENCY", "PRINCIPAL", "ROLES", "CREATED", "EXPIRES", "REVOKED", "DPOP-KEY"),
    ]
    assert len(text.stdout.splitlines()) == 4
    for output in (every, mine, text):
        shown = output.stdout + output.stderr
        assert "chb_" not in shown, "neither the token nor its digest is listed"
        for token in (first, second, other):
            assert token["token"] not in shown


async def test_rewrap_progress_goes_to_stderr(tmp_path: Path) -> None:
    home = await make_home(tmp_path / "home")
    async with home.client() as http:
        await open_case(http, "R-1")
    await asyncio.to_thread(rotate_keyring, home.keyring)
    await asyncio.to_thread(activate_version, home.keyring)

    result = await asyncio.to_thread(home.run, "keys", "rewrap", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"rewrapped": 1, "skipped": 0}
    assert "rewrapping" in result.stderr
    assert "1/1" in result.stderr
    assert "rewrapped 1 wrap(s), skipped 0" in result.stderr
