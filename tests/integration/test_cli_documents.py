"""`casehub documents add/list/remove`: manifests (Apollo's, a plain {id: text} map, .graphql
files, directories) registered all or none after checking every document against the schema;
every bad manifest one line naming what is wrong, and nothing stored. Run in-process through
the console script's entry point (its error boundary included), on both engines."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from casehub.app import StartupError, build_runtime, create_app
from casehub.cli import main
from casehub.config import Settings
from casehub.persistence.tables import AuditEventRow
from casehub.services.runtime import open_scope


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def casehub(
    database_url: str,
    keyring_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Any:
    """Run `casehub ARGS` in this process on the engine under test; its exit code and output."""
    monkeypatch.setenv("CASEHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("CASEHUB_KEYRING", str(keyring_path))

    def run(*args: str, **env: str) -> Ran:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(sys, "argv", ["casehub", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    return run


def body(name: str = "Viewer") -> str:
    """A document of its own (the comment makes its hash new)."""
    return f"# {uuid.uuid4()}\nquery {name} {{ viewer {{ name }} }}"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apollo(*bodies: tuple[str, str]) -> dict[str, Any]:
    """Apollo's persisted-query manifest of (name, body) pairs."""
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": digest(text), "name": name, "type": "query", "body": text}
            for name, text in bodies
        ],
    }


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def listed(casehub: Any) -> dict[str, dict[str, Any]]:
    ran = casehub("documents", "list", "--json")
    assert ran.code == 0, ran.err
    return {row["id"]: row for row in json.loads(ran.out)}


def audited(database_url: str, keyring_path: Path, action: str) -> list[dict[str, Any]]:
    """The details of every audit entry with this action."""

    async def read() -> list[dict[str, Any]]:
        runtime = build_runtime(Settings(database_url=database_url, keyring=keyring_path))
        try:
            async with open_scope(runtime) as scope:
                rows = await scope.store._all(
                    select(AuditEventRow).where(AuditEventRow.action == action)  # type: ignore[arg-type]
                )
            return [json.loads(row.details) for row in rows]
        finally:
            await runtime.database.dispose()

    return asyncio.run(read())


def test_add_list_and_remove(
    casehub: Any, tmp_path: Path, database_url: str, keyring_path: Path
) -> None:
    first, second = body("First"), body("Second")
    manifest = write(tmp_path, "manifest.json", apollo(("First", first), ("Second", second)))
    ran = casehub("documents", "add", str(manifest), "--json")
    assert ran.code == 0, ran.err
    ids = ["sha256:" + digest(first), "sha256:" + digest(second)]
    assert sorted(json.loads(ran.out)["added"]) == sorted(ids)
    rows = listed(casehub)
    assert {rows[i]["name"] for i in ids} == {"First", "Second"}
    assert {rows[i]["source"] for i in ids} == {"manifest"}
    events = audited(database_url, keyring_path, "document.register")
    assert {(e["id"], e["source"]) for e in events} >= {(i, "manifest") for i in ids}

    again = casehub("documents", "add", str(manifest))
    assert again.code == 0, again.err
    assert again.out.strip() == "added 0 documents, 2 already registered"

    removed = casehub("documents", "remove", ids[0].removeprefix("sha256:"))
    assert removed.code == 0, removed.err
    assert ids[0] not in listed(casehub)
    assert ids[1] in listed(casehub)
    assert {"id": ids[0]} in audited(database_url, keyring_path, "document.remove")
    gone = casehub("documents", "remove", ids[0])
    assert gone.code == 1
    assert "no document" in gone.err


def test_a_plain_map_graphql_files_and_a_directory(casehub: Any, tmp_path: Path) -> None:
    mapped, filed = body(), body()
    folder = tmp_path / "shipped"
    folder.mkdir()
    write(folder, "map.json", {"sha256:" + digest(mapped): mapped})
    write(folder, "viewer.graphql", filed)
    write(folder, "README.txt", "not a document")  # skipped in a directory
    ran = casehub("documents", "add", str(folder))
    assert ran.code == 0, ran.err
    rows = listed(casehub)
    assert "sha256:" + digest(mapped) in rows
    assert "sha256:" + digest(filed) in rows


def test_list_prints_a_table(casehub: Any, tmp_path: Path) -> None:
    text = body("Tabled")
    assert casehub("documents", "add", str(write(tmp_path, "t.graphql", text))).code == 0
    ran = casehub("documents", "list")
    assert ran.code == 0
    assert ran.out.splitlines()[0].split() == ["ID", "NAME", "SOURCE", "ADDED_AT"]
    assert "sha256:" + digest(text) in ran.out


def _bad(good: str) -> dict[str, tuple[str, Any, str]]:
    """Bad manifests: file name, content, what the error line says. Each also holds `good`,
    a valid document, which must not be stored either (all or none)."""
    good_op = {"id": digest(good), "name": "Good", "type": "query", "body": good}
    invalid = "query Bad { viewer { nosuchfield } }"
    broken = "query Broken { viewer { "
    mismatched = {**good_op, "id": "0" * 64, "name": "Liar"}
    return {
        "not JSON": ("m.json", "{not json", "not JSON"),
        "an array": ("m.json", [good_op], "a manifest is a JSON object"),
        "wrong format": ("m.json", {**apollo(("Good", good)), "format": "relay"}, '"format"'),
        "wrong version": ("m.json", {**apollo(("Good", good)), "version": 2}, '"version"'),
        "operations not a list": (
            "m.json",
            {**apollo(), "operations": {"a": good_op}},
            '"operations"',
        ),
        "operation without body": (
            "m.json",
            {**apollo(("Good", good)), "operations": [good_op, {"id": "a" * 64, "name": "Nb"}]},
            "operation 1 (Nb): its body",
        ),
        "id not the body's": (
            "m.json",
            {**apollo(("Good", good)), "operations": [good_op, mismatched]},
            "operation 1 (Liar): its id is not the SHA-256",
        ),
        "id not hex": ("m.json", {"xyz": good}, "its id must be a SHA-256"),
        "invalid against the schema": (
            "m.json",
            apollo(("Good", good), ("Bad", invalid)),
            "(Bad) does not validate against the schema: Cannot query field 'nosuchfield'",
        ),
        "introspection": (
            "m.json",
            apollo(("Good", good), ("Spy", "query Spy { __schema { types { name } } }")),
            "(Spy) does not validate",
        ),
        "syntax error": ("m.json", apollo(("Good", good), ("Broken", broken)), "Syntax Error"),
        "not a manifest suffix": ("m.yaml", "a: b", "not a .json manifest nor a .graphql file"),
        "no documents": ("m.json", {}, "no documents"),
    }


BAD_CASES = list(_bad("{ viewer { name } }"))


@pytest.mark.parametrize("case", BAD_CASES)
def test_a_bad_manifest_is_one_line_and_stores_nothing(
    casehub: Any, tmp_path: Path, case: str
) -> None:
    good = body("Good")
    name, content, says = _bad(good)[case]
    before = listed(casehub)
    ran = casehub("documents", "add", str(write(tmp_path, name, content)))
    assert ran.code == 1, (ran.out, ran.err)
    [line] = ran.err.splitlines()
    assert line.startswith("error: "), line
    assert says in line, line
    assert "Traceback" not in ran.err
    assert listed(casehub) == before


def test_one_bad_file_among_several_stores_nothing(casehub: Any, tmp_path: Path) -> None:
    good = write(tmp_path, "good.graphql", body())
    bad = write(tmp_path, "bad.graphql", "{ viewer { nosuchfield } }")
    before = listed(casehub)
    ran = casehub("documents", "add", str(good), str(bad))
    assert ran.code == 1
    assert "bad.graphql" in ran.err
    assert listed(casehub) == before


def test_an_oversized_manifest_is_refused_unread(casehub: Any, tmp_path: Path) -> None:
    manifest = write(tmp_path, "big.json", apollo(*[("Q", body("Q")) for _ in range(40)]))
    before = listed(casehub)
    ran = casehub("documents", "add", str(manifest), CASEHUB_MAX_MANIFEST_BYTES="1024")
    assert ran.code == 1
    assert "CASEHUB_MAX_MANIFEST_BYTES (1024)" in ran.err
    assert listed(casehub) == before


def test_a_full_registry_refuses_the_whole_manifest(casehub: Any, tmp_path: Path) -> None:
    before = listed(casehub)
    manifest = write(tmp_path, "m.json", apollo(("A", body("A")), ("B", body("B"))))
    ran = casehub(
        "documents", "add", str(manifest), CASEHUB_MAX_REGISTERED_DOCUMENTS=str(len(before) + 1)
    )
    assert ran.code == 1
    assert "CASEHUB_MAX_REGISTERED_DOCUMENTS" in ran.err
    assert listed(casehub) == before


@pytest.mark.parametrize("given", ["abc", "sha256:" + "z" * 64, "md5:" + "0" * 32])
def test_remove_refuses_what_is_not_an_id(casehub: Any, given: str) -> None:
    ran = casehub("documents", "remove", given)
    assert ran.code == 2
    assert "is not a document id" in ran.err


def test_a_missing_file_is_named(casehub: Any, tmp_path: Path) -> None:
    ran = casehub("documents", "add", str(tmp_path / "nowhere.json"))
    assert ran.code == 1
    assert "nowhere.json: no such file" in ran.err


# CASEHUB_DOCUMENTS_DIR: the same reading and checks, at startup


def _startup_settings(database_url: str, keyring_path: Path, directory: Path) -> Settings:
    return Settings(
        database_url=database_url,
        keyring=keyring_path,
        documents_dir=directory,
        audit_integrate_seconds=0,
    )


def test_a_documents_dir_is_registered_at_startup(
    casehub: Any, tmp_path: Path, database_url: str, keyring_path: Path
) -> None:
    shipped = body("Shipped")
    write(tmp_path, "tool.json", apollo(("Shipped", shipped)))
    settings = _startup_settings(database_url, keyring_path, tmp_path)

    async def start_and_stop() -> None:
        app = create_app(settings, runtime=build_runtime(settings))
        async with app.router.lifespan_context(app):
            pass

    asyncio.run(start_and_stop())
    assert listed(casehub)["sha256:" + digest(shipped)]["name"] == "Shipped"
    asyncio.run(start_and_stop())  # the next replica, or a restart: already there


def test_a_bad_documents_dir_stops_startup_and_stores_nothing(
    casehub: Any, tmp_path: Path, database_url: str, keyring_path: Path
) -> None:
    write(tmp_path, "good.graphql", body())
    write(tmp_path, "tool.json", apollo(("Bad", "query Bad { viewer { nosuchfield } }")))
    before = listed(casehub)
    settings = _startup_settings(database_url, keyring_path, tmp_path)
    runtime = build_runtime(settings)
    try:
        with pytest.raises(StartupError, match=r"CASEHUB_DOCUMENTS_DIR: .*tool\.json.*\(Bad\)"):
            create_app(settings, runtime=runtime)
    finally:
        asyncio.run(runtime.database.dispose())
    assert listed(casehub) == before
