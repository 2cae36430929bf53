"""`casehub demo --federated`: the real console script starts two real `casehub serve`
processes (MY and FR, each with its own keyring and database), peers them, delivers both
directories and a ping each way; FR lists MY's agencies with their home hub; Ctrl-C stops
both and leaves nothing running. A second run reuses the state. FR on PostgreSQL. Every
refusal of the command: a port taken, a state folder that cannot be written, a hub that does
not start."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from casehub.demo.federated import HUBS
from casehub.demo.loader import scenario
from tests.integration.test_cli import CASEHUB, free_port
from tests.integration.test_demo import demo_env
from tests.postgres import fresh_postgres, require_postgres

START_SECONDS = 240  # two hubs prepared, started, peered and delivered on a busy machine
STOP_SECONDS = 45
AGENCIES = "{ agencies(first: 20) { edges { node { code homeHub { name } } } } }"
STATE = Path(".casehub/federated")


def two_ports() -> int:
    """A free loopback port whose next one is free too (MY's and FR's)."""
    for _ in range(50):
        port = free_port()
        if port < 65535 and is_free(port + 1):
            return port
    raise AssertionError("no two free ports in a row")


def is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def tokens_of(stdout: str) -> dict[str, str]:
    found = {}
    for line in stdout.splitlines():
        match = re.fullmatch(r"\s*([A-Z][A-Z0-9-]+)\s+(chb_\S+)\s+\(at (MY|FR)\)\s*", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def demo(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`casehub demo --federated ARGS` to its end (`--no-serve`, or a refusal)."""
    return subprocess.run(
        [str(CASEHUB), "demo", "--federated", *args],
        cwd=cwd,
        env=env or demo_env(),
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
        check=False,
    )


def children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone but for its exit status.
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"


def listing(base: str, token: str) -> dict[str, str | None]:
    answer = httpx.post(
        f"{base}/graphql",
        json={"query": AGENCIES},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    return {
        edge["node"]["code"]: (edge["node"]["homeHub"] or {}).get("name")
        for edge in answer["data"]["agencies"]["edges"]
    }


def inbox(db: Path, kind: str) -> list[str]:
    """The senders' names of the messages of a type in a hub's inbox."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT p.name FROM federation_inbox i JOIN federation_peer p ON p.hub_id = i.sender "
            "WHERE i.type = ?",
            (kind,),
        ).fetchall()
    connection.close()
    return [name for (name,) in rows]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("federated")


@pytest.fixture(scope="module")
def served(workdir: Path) -> Iterator[tuple[subprocess.Popen[str], int, str]]:
    """The demo serving both hubs; its process, MY's port and what it printed."""
    port = two_ports()
    process = subprocess.Popen(
        [str(CASEHUB), "demo", "--federated", "--port", str(port)],
        cwd=workdir,
        env=demo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    assert process.stdout is not None
    stderr = process.stderr
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:  # a line at a time, so that waiting for one is bounded
        for line in stderr:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + START_SECONDS
    errors: list[str] = []
    while not errors or not errors[-1].startswith("Serving both hubs"):
        try:
            errors.append(lines.get(timeout=max(deadline - time.monotonic(), 0.01)))
        except queue.Empty:
            break
    try:
        assert errors, "the demo printed nothing"
        assert errors[-1].startswith("Serving both hubs"), "".join(errors)
        # Everything it printed on stdout is out by now (flushed before the stderr line).
        os.set_blocking(process.stdout.fileno(), False)
        yield process, port, process.stdout.read() or ""
    finally:
        if process.poll() is None:  # the Ctrl-C test did not run: stop the hubs all the same
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_two_hubs_peer_and_fr_lists_mys_agencies_with_their_home_hub(
    served: tuple[subprocess.Popen[str], int, str],
) -> None:
    _process, port, stdout = served
    tokens = tokens_of(stdout)
    assert set(tokens) == {"MY-PDRM", "MY-MCMC", "FR-PARQUET-J3", "AE-RELAYGRAM"}, stdout
    my, fr = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
    assert listing(fr, tokens["FR-PARQUET-J3"]) == {
        "MY-PDRM": "MY",
        "MY-MCMC": "MY",
        "FR-PARQUET-J3": None,
        "AE-RELAYGRAM": None,
    }
    assert listing(my, tokens["MY-PDRM"]) == {
        "MY-PDRM": None,
        "MY-MCMC": None,
        "FR-PARQUET-J3": "FR",
        "AE-RELAYGRAM": "FR",
    }
    # A hub's tokens are its own agencies' only: FR does not know MY's tokens.
    refused = httpx.post(
        f"{fr}/graphql",
        json={"query": AGENCIES},
        headers={"Authorization": f"Bearer {tokens['MY-PDRM']}"},
        timeout=10,
    )
    assert refused.status_code == 401
    assert "do not cross between the hubs yet" in stdout
    assert "out of band" in stdout


def test_a_ping_went_each_way_and_each_hub_pins_the_other(
    served: tuple[subprocess.Popen[str], int, str], workdir: Path
) -> None:
    assert inbox(workdir / STATE / "fr" / "casehub.db", "federation.ping") == ["MY"]
    assert inbox(workdir / STATE / "my" / "casehub.db", "federation.ping") == ["FR"]
    assert inbox(workdir / STATE / "fr" / "casehub.db", "federation.directory") == ["MY"]


def test_ctrl_c_stops_both_hubs_and_leaves_nothing_running(
    served: tuple[subprocess.Popen[str], int, str], workdir: Path
) -> None:
    process, port, _stdout = served
    servers = children(process.pid)
    assert len(servers) == 2
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=STOP_SECONDS) == 0
    assert not [pid for pid in servers if alive(pid)]
    assert is_free(port)
    assert is_free(port + 1)
    for hub in ("my", "fr"):
        assert "Application shutdown complete" in (workdir / STATE / hub / "serve.log").read_text()


def test_a_second_run_reuses_the_state(
    served: tuple[subprocess.Popen[str], int, str], workdir: Path
) -> None:
    first, _port, stdout = served
    assert first.wait(timeout=STOP_SECONDS) is not None  # the first run is over
    result = demo(workdir, "--no-serve", "--port", str(two_ports()))
    assert result.returncode == 0, result.stderr
    assert "MY already pins FR" not in result.stderr  # the ports changed: pinned again
    assert "MY pinned FR" in result.stderr
    assert set(tokens_of(result.stdout)) == set(tokens_of(stdout))
    assert not set(tokens_of(result.stdout).values()) & set(tokens_of(stdout).values())
    # One scenario, one identity per hub, a second ping each way.
    assert inbox(workdir / STATE / "fr" / "casehub.db", "federation.ping") == ["MY", "MY"]
    with sqlite3.connect(workdir / STATE / "my" / "casehub.db") as connection:
        (agencies,) = connection.execute(
            "SELECT count(*) FROM agency WHERE home_hub_id IS NULL"
        ).fetchone()
        (peers,) = connection.execute("SELECT count(*) FROM federation_peer").fetchone()
    connection.close()
    assert (agencies, peers) == (2, 1)
    again = demo(workdir, "--no-serve", "--port", str(_port_of(result.stdout)))
    assert again.returncode == 0, again.stderr
    assert "MY already pins FR" in again.stderr
    assert "FR already pins MY" in again.stderr


def _port_of(stdout: str) -> int:
    match = re.search(r"MY  http://127\.0\.0\.1:(\d+)/graphql", stdout)
    assert match, stdout
    return int(match.group(1))


@pytest.mark.postgres
def test_fr_on_postgresql(tmp_path: Path) -> None:
    require_postgres("the two-hub demo on PostgreSQL")
    with fresh_postgres("casehub_demo_fr") as url:
        result = demo(tmp_path, "--no-serve", "--port", str(two_ports()), "--fr-database-url", url)
        assert result.returncode == 0, result.stderr
        assert "FR lists: MY-PDRM (MY), MY-MCMC (MY)" in result.stdout
        assert not (tmp_path / STATE / "fr" / "casehub.db").exists()


def test_a_port_taken_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    port = two_ports()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
        result = demo(tmp_path, "--no-serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: port {port + 1} on 127.0.0.1, for hub FR, is taken — stop what listens "
        "there, or pass another --port (MY takes it, FR the next one)"
    )
    assert not (tmp_path / ".casehub").exists()


def test_a_state_folder_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    result = demo(tmp_path, "--no-serve", "--port", str(two_ports()), "--state-dir", "file/hubs")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: cannot write the two-hub demo's state under file/hubs: Not a directory — make "
        "it writable, or choose another with --state-dir"
    )


def test_a_host_off_loopback_is_refused(tmp_path: Path) -> None:
    result = demo(tmp_path, "--no-serve", "--host", "192.0.2.1", "--port", str(two_ports()))
    assert result.returncode == 2
    assert result.stderr.startswith("error: --host 192.0.2.1 is not a loopback address — ")
    assert not (tmp_path / ".casehub").exists()


def test_a_port_with_no_next_one_is_refused(tmp_path: Path) -> None:
    result = demo(tmp_path, "--no-serve", "--port", "65535")
    assert result.returncode == 2
    assert "--port 65535 leaves no room for FR's port" in result.stderr


def test_a_hub_that_does_not_start_stops_the_demo_and_the_other_hub(tmp_path: Path) -> None:
    # A setting only `casehub serve` reads at startup: both servers refuse to start.
    env = demo_env() | {"CASEHUB_DOCUMENTS_DIR": str(tmp_path / "missing")}
    port = two_ports()
    result = demo(tmp_path, "--no-serve", "--port", str(port), env=env)
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"error: hub (MY|FR) did not start \(exit \d+\): error: CASEHUB_DOCUMENTS_DIR: .* — "
        r"its log: \.casehub/federated/(my|fr)/serve\.log",
        last,
    ), result.stderr
    assert is_free(port)
    assert is_free(port + 1)
    leftover = subprocess.run(
        ["pgrep", "-f", f"--port {port}"], capture_output=True, text=True, check=False
    )
    assert leftover.stdout == ""
    # Run again: the error quoted is this run's, not the one the kept log holds from before.
    env["CASEHUB_DOCUMENTS_DIR"] = str(tmp_path / "missing-again")
    again = demo(tmp_path, "--no-serve", "--port", str(port), env=env)
    assert again.returncode == 1
    assert "missing-again: no such file" in again.stderr.strip().splitlines()[-1]


def test_the_two_hub_options_need_federated(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(CASEHUB), "demo", "--no-serve", "--state-dir", "hubs"],
        cwd=tmp_path,
        env=demo_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: --state-dir and --fr-database-url are options of the two-hub demo — add --federated"
    )
    assert not (tmp_path / ".casehub").exists()


def test_each_hub_loads_the_part_of_the_scenario_among_its_own_agencies() -> None:
    parts = {hub.name: scenario(hub.codes) for hub in HUBS}
    for hub in HUBS:
        part = parts[hub.name]
        assert [row[0] for row in part.agencies] == list(hub.codes)
        for case in part.cases:
            assert case.owner in hub.codes
            assert all(code in hub.codes for code, _scope in case.shares)
    assert [(r.requester, r.requested) for r in parts["MY"].requests] == [("MY-PDRM", "MY-MCMC")]
    assert [(r.requester, r.requested) for r in parts["FR"].requests] == [
        ("FR-PARQUET-J3", "AE-RELAYGRAM")
    ]
    # Every case of the two hubs' agencies is loaded (only shares to the other hub dropped).
    owners = {code for hub in HUBS for code in hub.codes}
    loaded = sum(len(part.cases) for part in parts.values())
    assert loaded == sum(1 for case in scenario().cases if case.owner in owners)
