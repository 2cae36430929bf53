"""One token must not be able to freeze or kill the service (issue 11, items 1-3): a real
`casehub serve` under a 2 GiB address-space cap, on SQLite and on PostgreSQL, receives the
reported reproductions (nested lists, huge list arguments, multiplied evidence content) and an
operation that runs past its time budget, while /healthz is polled every 100 ms and another
agency keeps asking a small query: every /healthz answers within 1 s, the other agency is
served throughout, every hostile request gets a typed answer, and the server is alive after."""

from __future__ import annotations

import asyncio
import resource
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from casehub.app import build_runtime, create_app
from casehub.config import Settings
from casehub.crypto import create_keyring
from casehub.domain.enums import Role
from casehub.persistence import migrate
from casehub.services.agencies import auth
from casehub.services.cases.subjects import IDENTIFIERS_MAX
from casehub.services.runtime import open_scope
from tests.integration.test_cli import CASEHUB, free_port
from tests.postgres import fresh_postgres, require_postgres
from tests.support import register

MEMORY_CAP = 2 * 1024**3  # bytes of address space the server may map
BUDGET = 0.5  # the server's operation time budget, seconds: the heaviest allowed op takes more
HEALTH_EVERY = 0.1
HEALTH_WITHIN = 1.0
EVIDENCE = 4  # items of the largest content (max_evidence_bytes) in the case
TYPED = {
    "LIMIT_EXCEEDED",
    "TOO_LARGE",
    "OPERATION_TIMEOUT",
    "RESPONSE_TOO_LARGE",
    "RATE_LIMITED",
}
OPEN_CASE = (
    """mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } errors { code } } }"""
)
ADD_SUBJECT = """mutation($i: AddSubjectInput!) { addSubject(input: $i) {
  subject { id } errors { code message } } }"""
ADD_EVIDENCE = """mutation($f: Upload!, $c: ID!) { addEvidence(input: {caseId: $c, kind: DOCUMENT,
  title: "export", content: $f}) { evidence { id } errors { code message } } }"""


class Home:
    """Keyring, migrated database, two agencies and their tokens."""

    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url
        self.tokens: dict[str, str] = {}

    @property
    def settings(self) -> Settings:
        return Settings(database_url=self.url, keyring=self.root / "keyring.json")

    def env(self) -> dict[str, str]:
        import os

        env = {key: value for key, value in os.environ.items() if not key.startswith("CASEHUB_")}
        env.update(
            CASEHUB_DATABASE_URL=self.url,
            CASEHUB_KEYRING=str(self.root / "keyring.json"),
            CASEHUB_OPERATION_TIME_BUDGET_SECONDS=str(BUDGET),
        )
        return env


async def make_home(root: Path, url: str) -> Home:
    home = Home(root, url)
    await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(create_keyring, root / "keyring.json")
    await asyncio.to_thread(migrate.upgrade, url)
    runtime = build_runtime(home.settings)
    try:
        async with open_scope(runtime) as scope:
            for code in ("MY-PDRM", "SG-SPF"):
                await register(scope, code)
            roles = [Role.INVESTIGATOR, Role.READER, Role.LIAISON_OFFICER]
            _, home.tokens["owner"] = await auth.issue_token(
                scope, agency_code="MY-PDRM", roles=roles
            )
            _, home.tokens["reader"] = await auth.issue_token(
                scope, agency_code="MY-PDRM", roles=[Role.READER], principal_name="reader"
            )
            _, home.tokens["other"] = await auth.issue_token(
                scope, agency_code="SG-SPF", roles=[Role.READER]
            )
        await fill_case(home)
    finally:
        await runtime.database.dispose()
    return home


async def fill_case(home: Home) -> None:
    """A case with as many subjects, identifiers and largest evidence items as the API takes,
    written through the API in process before the server starts."""
    settings = home.settings
    # Filling is not what is measured: no rate limit.
    app = create_app(
        settings.model_copy(update={"rate_limit_per_second": 1e6, "rate_limit_burst": 10**6})
    )
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {home.tokens['owner']}", "x-casehub-csrf": "1"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://casehub.test", timeout=60) as http,
    ):

        async def call(query: str, variables: dict[str, Any]) -> dict[str, Any]:
            response = await http.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
            body: dict[str, Any] = response.json()
            assert "errors" not in body, body
            data: dict[str, Any] = body["data"]
            return data

        case = {"reference": "DOS-1", "title": "Load", "summary": "s", "category": "FRAUD"}
        home.tokens["case"] = (await call(OPEN_CASE, {"i": case}))["openCase"]["case"]["id"]
        subjects = getattr(settings, "max_subjects_per_case", 100)
        for number in range(subjects):
            identifiers = [
                {"kind": "EMAIL", "value": f"s{number}.i{each}@example.org"}
                for each in range(IDENTIFIERS_MAX)
            ]
            subject = {
                "caseId": home.tokens["case"],
                "kind": "PERSON",
                "displayName": f"Subject {number}",
                "identifiers": identifiers,
            }
            payload = (await call(ADD_SUBJECT, {"i": subject}))["addSubject"]
            if payload["errors"]:  # the case is full
                assert number > 0, payload
                break
        content = b"\xab" * settings.max_evidence_bytes
        for _ in range(EVIDENCE):
            operations = {"query": ADD_EVIDENCE, "variables": {"f": None, "c": home.tokens["case"]}}
            response = await http.post(
                "/graphql",
                data={
                    "operations": orjson.dumps(operations).decode(),
                    "map": '{"0": ["variables.f"]}',
                },
                files={"0": ("export.bin", content, "application/octet-stream")},
                headers=headers,
            )
            assert response.json()["data"]["addEvidence"]["errors"] == [], response.text


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def home(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Home]:
    if request.param == "sqlite":
        yield await make_home(tmp_path / "home", f"sqlite+aiosqlite:///{tmp_path}/casehub.db")
        return
    require_postgres("the one-token load test on PostgreSQL")
    with fresh_postgres("casehub_load") as url:
        yield await make_home(tmp_path / "home", url)


def _cap_memory() -> None:  # pragma: no cover  (runs in the child before exec)
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


class Server:
    """`casehub serve` under the memory cap, logging to a file."""

    def __init__(self, home: Home) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.log = home.root / "serve.log"
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [str(CASEHUB), "serve", "--port", str(port)],
                env=home.env(),
                cwd=home.root,
                stdout=output,
                stderr=subprocess.STDOUT,
                preexec_fn=_cap_memory,
            )

    async def ready(self) -> None:
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(base_url=self.base, timeout=2) as http:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, self.log.read_text()
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"not ready: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def attacks(home: Home) -> list[tuple[str, str, bytes]]:
    """The issue's reproductions, as (name, token, JSON body)."""
    case = home.tokens["case"]

    def body(query: str, variables: dict[str, Any] | None = None) -> bytes:
        return orjson.dumps({"query": query, "variables": variables or {}})

    identifiers = [{"kind": "PHONE", "value": f"+6012{n:07d}"} for n in range(400_000)]
    return [
        (
            "1: nested subjects under cases",
            "owner",
            body(
                "{ cases(first: 1) { edges { node { subjects { case { subjects { case { "
                "subjects { case { owner { id } } } } } } } } } } }"
            ),
        ),
        (
            "1: nested subjects under node",
            "owner",
            body(
                "query($c: ID!) { node(id: $c) { ... on Case { subjects { case { subjects { "
                "case { subjects { id } } } } } } } }",
                {"c": case},
            ),
        ),
        (
            "1: identifiers of 100 copies of the case",
            "owner",
            body(
                "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Case { subjects { "
                "identifiers { value } } } } }",
                {"ids": [case] * 100},
            ),
        ),
        (
            "2: hitCheck with 400,000 identifiers",
            "reader",
            body(
                "query($i: [IdentifierInput!]!) { hitCheck(identifiers: $i) { errors { code } } }",
                {"i": identifiers},
            ),
        ),
        (
            "2: addSubject with 100,000 identifiers",
            "owner",
            body(
                ADD_SUBJECT,
                {
                    "i": {
                        "caseId": case,
                        "kind": "PERSON",
                        "displayName": "Flood",
                        "identifiers": identifiers[:100_000],
                    }
                },
            ),
        ),
        (
            "2: nodes with 1,000,000 ids",
            "owner",
            body("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [case] * 1_000_000}),
        ),
        *[
            (
                f"3: evidence content of {copies} copies of the case",
                "owner",
                body(
                    "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Case { evidence { "
                    "contentBase64 } } } }",
                    {"ids": [case] * copies},
                ),
            )
            for copies in (10, 100)
        ],
    ]


async def heaviest_allowed(http: httpx.AsyncClient, home: Home) -> bytes:
    """The most copies of the case's identifiers the cost limit lets one operation read: an
    operation accepted, that runs past the time budget."""
    query = (
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Case { subjects { "
        "identifiers { value } } } } }"
    )
    headers = {"Authorization": f"Bearer {home.tokens['owner']}"}
    # The same shape, without decrypting: its cost is the same, and it is quick.
    probe = await http.post(
        "/graphql",
        json={
            "query": query.replace("value", "kind"),
            "variables": {"ids": [home.tokens["case"]]},
        },
        headers=headers,
    )
    assert "extensions" in probe.json(), probe.text
    cost = probe.json()["extensions"]["cost"]
    copies = min(100, cost["maxQueryCost"] // cost["requestedQueryCost"])
    assert copies >= 2, cost
    return orjson.dumps({"query": query, "variables": {"ids": [home.tokens["case"]] * copies}})


async def test_one_token_cannot_freeze_or_kill_the_server(home: Home) -> None:
    server = Server(home)
    try:
        await server.ready()
        await hammer(server, home)
    finally:
        server.stop()


async def hammer(server: Server, home: Home) -> None:
    stop = asyncio.Event()
    health: list[float] = []
    served: list[float] = []

    async def poll_health() -> None:
        async with httpx.AsyncClient(base_url=server.base, timeout=5) as http:
            while not stop.is_set():
                started = time.monotonic()
                response = await http.get("/healthz")
                assert response.status_code == 200, response.text
                health.append(time.monotonic() - started)
                await asyncio.sleep(HEALTH_EVERY)

    async def other_agency() -> None:
        headers = {"Authorization": f"Bearer {home.tokens['other']}"}
        async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
            while not stop.is_set():
                started = time.monotonic()
                response = await http.post(
                    "/graphql", json={"query": "{ viewer { name } }"}, headers=headers
                )
                assert response.status_code == 200, response.text
                assert response.json()["data"]["viewer"]["name"], response.text
                served.append(time.monotonic() - started)
                await asyncio.sleep(0.2)

    async def attack(
        http: httpx.AsyncClient, name: str, token: str, content: bytes
    ) -> tuple[str, int, str]:
        response = await http.post(
            "/graphql",
            content=content,
            headers={
                "Authorization": f"Bearer {home.tokens[token]}",
                "content-type": "application/json",
            },
        )
        body = response.json()
        codes = [error["extensions"]["code"] for error in body.get("errors") or []]
        return name, response.status_code, codes[0] if codes else "data"

    # Built before the pollers start: encoding a million ids takes this process's own event
    # loop for a second or two, which the pollers would count against the server.
    hostile = attacks(home)
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
        heavy = await heaviest_allowed(http, home)
    pollers = [asyncio.create_task(poll_health()), asyncio.create_task(other_agency())]
    try:
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
            started = time.monotonic()
            outcomes = [
                await attack(http, name, token, content) for name, token, content in hostile
            ]
            outcomes.append(await attack(http, "time budget", "owner", heavy))
            took = time.monotonic() - started
    finally:
        stop.set()
        results = await asyncio.gather(*pollers, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    log = server.log.read_text()
    for name, status, code in outcomes:
        assert code in TYPED | {"data"}, (name, status, code, log[-2000:])
    assert outcomes[-1][2] == "OPERATION_TIMEOUT", outcomes
    # Each huge list argument is turned away before it is read.
    assert all(code == "TOO_LARGE" for name, _s, code in outcomes if name.startswith("2:")), (
        outcomes
    )
    assert len(health) >= took / (HEALTH_EVERY + HEALTH_WITHIN), (len(health), took)
    assert max(health) < HEALTH_WITHIN, (max(health), sorted(health)[-5:])
    assert served
    assert max(served) < 5, served
    assert server.process.poll() is None, log[-2000:]
    async with httpx.AsyncClient(base_url=server.base, timeout=5) as http:
        assert (await http.get("/healthz")).status_code == 200
