"""Every foreseeable mistake of an operator is one line on stderr naming the fix, an exit code
(2: the configuration, 1: the work) and nothing written; never a traceback."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from casehub.cli.errors import options, report
from tests.integration.test_cli import CASEHUB, TIMEOUT, Home
from tests.postgres import PG_BASE, require_postgres

AGENCY_ADD = (
    "agency",
    "add",
    "--code",
    "MY-PDRM",
    "--name",
    "Royal Malaysia Police",
    "--jurisdiction",
    "MY",
    "--kind",
    "LAW_ENFORCEMENT",
)


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One keyring for every case (the keyring cases make their own)."""
    home = Home(tmp_path_factory.mktemp("keys"))
    home.ok("keys", "init")
    return home.keyring


def tables(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    connection.close()
    return [name for (name,) in rows]


@dataclass
class Mistake:
    """A command run with one wrong thing, and what must (not) follow."""

    args: tuple[str, ...]
    code: int
    fix: str
    env: Callable[[Path, Path], dict[str, str]]
    prepare: Callable[[Path], None] = lambda _root: None
    untouched: Callable[[Path], None] = lambda _root: None
    secret: str | None = None
    postgres: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def sqlite_at(path: str) -> Callable[[Path, Path], dict[str, str]]:
    return lambda root, keys: {
        "CASEHUB_DATABASE_URL": f"sqlite+aiosqlite:///{root / path}",
        "CASEHUB_KEYRING": str(keys),
    }


def url(value: str) -> Callable[[Path, Path], dict[str, str]]:
    return lambda _root, keys: {"CASEHUB_DATABASE_URL": value, "CASEHUB_KEYRING": str(keys)}


def empty_file(root: Path) -> None:
    (root / "casehub.db").touch()


def still_unmigrated(root: Path) -> None:
    assert tables(root / "casehub.db") == [], "the database was migrated by accident"


def garbage(db: Path) -> None:
    db.write_bytes(b"not a database" * 100)


def no_database(root: Path) -> None:
    assert not (root / "casehub.db").exists()


def no_directory(root: Path) -> None:
    assert not (root / "missing").exists(), "the directory was created"


def with_keyring(text: str | None) -> Callable[[Path, Path], dict[str, str]]:
    """A database file next to a keyring holding `text` (None: no keyring at all)."""

    def env(root: Path, _keys: Path) -> dict[str, str]:
        keyring = root / "keyring.json"
        if text is not None:
            keyring.write_text(text)
            keyring.chmod(0o600)
        return {
            "CASEHUB_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'casehub.db'}",
            "CASEHUB_KEYRING": str(keyring),
        }

    return env


MISTAKES = {
    "unmigrated database": Mistake(
        AGENCY_ADD, 1, "casehub db upgrade", sqlite_at("casehub.db"), empty_file, still_unmigrated
    ),
    "no database file": Mistake(
        ("agency", "list"), 1, "casehub db upgrade", sqlite_at("casehub.db"), untouched=no_database
    ),
    "directory missing (upgrade)": Mistake(
        ("db", "upgrade"), 2, "create it", sqlite_at("missing/casehub.db"), untouched=no_directory
    ),
    "directory missing (command)": Mistake(
        ("token", "list"), 2, "create it", sqlite_at("missing/casehub.db"), untouched=no_directory
    ),
    "postgres:// URL": Mistake(
        ("agency", "list"),
        2,
        "write postgresql+psycopg://casehub:***@db.example/casehub",
        url("postgres://casehub:hunter2@db.example/casehub"),
        secret="hunter2",
    ),
    "sqlite:// URL": Mistake(
        ("db", "upgrade"), 2, "write sqlite+aiosqlite:///", url("sqlite:///casehub.db")
    ),
    "not a URL": Mistake(("agency", "list"), 2, "postgresql+psycopg://", url("casehub.db")),
    "CASEHUB_ENV=dev": Mistake(
        ("agency", "list"),
        2,
        "CASEHUB_ENV is invalid — input should be 'production' or 'development'",
        sqlite_at("casehub.db"),
        extra={"CASEHUB_ENV": "dev"},
    ),
    "database down": Mistake(
        ("agency", "list"),
        1,
        "check CASEHUB_DATABASE_URL",
        url("postgresql+psycopg://casehub:hunter2@127.0.0.1:1/casehub"),
        secret="hunter2",
    ),
    "unknown host": Mistake(
        ("db", "check"),
        1,
        "check CASEHUB_DATABASE_URL",
        url("postgresql+psycopg://casehub:hunter2@casehub-db.invalid/casehub"),
        secret="hunter2",
    ),
    "wrong credentials": Mistake(
        ("audit", "verify"),
        1,
        "check CASEHUB_DATABASE_URL",
        url(
            make_url(f"{PG_BASE}/postgres")
            .set(username="no_such_role", password="hunter2")
            .render_as_string(hide_password=False)
        ),
        secret="hunter2",
        postgres=True,
    ),
    "not a database": Mistake(
        ("keys", "status"),
        1,
        "check CASEHUB_DATABASE_URL",
        sqlite_at("casehub.db"),
        lambda root: garbage(root / "casehub.db"),
    ),
    "no keyring": Mistake(
        ("agency", "list"),
        2,
        "casehub keys init",
        with_keyring(None),
        empty_file,
        still_unmigrated,
    ),
    "malformed keyring": Mistake(
        ("keys", "rewrap"),
        2,
        "restore it from its backup",
        with_keyring("{not json"),
        empty_file,
        still_unmigrated,
    ),
}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=[pytest.mark.postgres] if mistake.postgres else [])
        for name, mistake in MISTAKES.items()
    ],
)
def test_a_mistake_is_one_line_naming_the_fix(name: str, keyring: Path, tmp_path: Path) -> None:
    mistake = MISTAKES[name]
    if mistake.postgres:
        require_postgres("the wrong-credentials case")
    mistake.prepare(tmp_path)
    env = {**Home(tmp_path).env(), **mistake.env(tmp_path, keyring), **mistake.extra}
    result = subprocess.run(
        [str(CASEHUB), *mistake.args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == mistake.code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    assert mistake.fix in lines[0], lines[0]
    if mistake.secret is not None:
        assert mistake.secret not in result.stderr, "the password is never printed"
    mistake.untouched(tmp_path)


def test_each_bad_setting_gets_its_line(keyring: Path, tmp_path: Path) -> None:
    env = {
        **Home(tmp_path).env(),
        "CASEHUB_KEYRING": str(keyring),
        "CASEHUB_ENV": "dev",
        "CASEHUB_PORT": "http",
    }
    result = subprocess.run(
        [str(CASEHUB), "serve"], env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = sorted(result.stderr.splitlines())
    assert [line.split(" — ")[0] for line in lines] == [
        "error: CASEHUB_ENV is invalid",
        "error: CASEHUB_PORT is invalid",
    ]


def test_a_bug_is_one_line_and_debug_shows_its_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def failing() -> None:
        raise RuntimeError("state the code never expected\nsecond line")

    try:
        failing()
    except RuntimeError as error:
        bug = error
    assert report(bug) == 1
    assert capsys.readouterr().err == (
        "error: unexpected RuntimeError: state the code never expected (a bug) — run with "
        "`casehub --debug ...` for the traceback\n"
    )
    options.debug = True
    try:
        assert report(bug) == 1
    finally:
        options.debug = False
    shown = capsys.readouterr().err
    assert shown.startswith("Traceback (most recent call last):")
    assert "in failing" in shown
    assert shown.endswith("error: unexpected RuntimeError: state the code never expected (a bug)\n")
