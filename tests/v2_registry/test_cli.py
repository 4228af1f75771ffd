"""The v2 command line refuses bad flags clearly, and runs as ``python -m`` too."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request

import pytest

from tests.demo import free_run
from workbench.harness import Processes, children_it_printed, printed_children, run_ddb, wait_until


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["v2", "node", "-ra", "127.0.0.1:8080"], b"is not an http:// address"),
        (["v2", "node", "-ra", "http://127.0.0.1:8080", "--name", "bad name"], b"a node name is"),
        (
            ["v2", "node", "-ra", "http://127.0.0.1:8080", "--heartbeat-interval", "0"],
            b"greater than 0",
        ),
        (["v2", "node", "--port", "0"], b"required: -ra/--registry-address"),
        (["v2", "registry", "--ttl", "-1"], b"greater than 0"),
        (["nodes", "--registry", "ftp://x"], b"is not an http:// address"),
    ],
)
def test_bad_flags_are_one_clear_error_and_exit_2(args: list[str], complaint: bytes) -> None:
    result = run_ddb(*args)
    assert result.returncode == 2
    assert complaint in result.stderr
    assert b"Traceback" not in result.stderr


def test_nodes_with_no_registry_is_a_one_line_error(unused_tcp_port: int) -> None:
    result = run_ddb("nodes", "--registry", f"http://127.0.0.1:{unused_tcp_port}", "--timeout", "2")
    assert result.returncode == 1
    assert result.stderr.decode().startswith("ddb: error: cannot reach")


def test_python_dash_m_runs_the_registry_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stages.v2_registry", "--help"], capture_output=True, timeout=20
    )
    assert result.returncode == 0
    assert b"--ttl" in result.stdout


def test_the_demo_stops_with_an_error_when_its_registry_cannot_start(
    unused_tcp_port_factory,
) -> None:
    busy, first = unused_tcp_port_factory(), unused_tcp_port_factory()
    with socket.create_server(("127.0.0.1", busy)):  # someone else holds the registry's port
        result = run_ddb(
            "v2",
            "demo",
            "--registry-port",
            str(busy),
            "--first-node-port",
            str(first),
            "--dashboard-port",
            "0",
            timeout=30,
        )
    assert result.returncode == 1
    assert b"The registry did not start on port" in result.stderr
    assert b"Address already in use" in result.stderr
    assert b"Traceback" not in result.stderr


@pytest.mark.timeout(60)
@pytest.mark.parametrize("stage", ["v2", "v2.1"])
async def test_the_demo_exits_1_when_another_registry_holds_its_port(
    processes: Processes, stage: str, unused_tcp_port_factory
) -> None:
    other = await processes.start("v2", "registry", "--port", "0").started()  # not the demo's
    port, first = other.rsplit(":", 1)[1], unused_tcp_port_factory()
    result = run_ddb(
        stage, "demo", "--registry-port", port, "--first-node-port", str(first),
        "--dashboard-port", "0", timeout=30,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"The registry did not start on port {port}".encode() in result.stderr
    assert b"Address already in use" in result.stderr
    assert b"Traceback" not in result.stderr
    assert b"pid" not in result.stdout  # no node was started against the other registry
    assert processes.started[0].proc.poll() is None  # and the other registry is untouched


def health(url: str) -> dict:
    with urllib.request.urlopen(url + "/health", timeout=2) as resp:
        return json.load(resp)


@pytest.mark.timeout(60)
async def test_the_demo_prints_each_childs_pid(processes: Processes, unused_tcp_port_factory):
    registry_port, first = unused_tcp_port_factory(), free_run(2)
    demo = processes.start(
        "v2", "demo", "--nodes", "2", "--registry-port", str(registry_port),
        "--first-node-port", str(first), "--dashboard-port", "0",
    )  # fmt: skip
    await demo.wait_for_log(r"  n2 +http://\S+ +pid \d+", timeout=20)
    started = printed_children(demo.log)
    assert [name for name, _, _ in started] == ["registry", "n1", "n2"]

    def answering() -> bool:
        try:
            return all(health(url)["pid"] == pid for _, url, pid in started)
        except OSError:
            return False

    await wait_until(answering, timeout=15, what="every child to answer with its pid")
    assert demo.stop() == 0


async def test_kv_pointed_at_a_registry_says_it_is_one(processes: Processes) -> None:
    registry = await processes.start("v2", "registry", "--port", "0").started()
    result = run_ddb("kv", "put", "greeting", "hello", "--url", registry)
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        f"ddb: error: {registry} is a registry, not a key/value server; give a node's "
        "address with --url or DDB_URL (`ddb nodes` lists them)"
    ]


@pytest.mark.parametrize("command", [["nodes"], ["status"]])
def test_help_shows_the_timeout_default(command: list[str]) -> None:
    out = " ".join(run_ddb(*command, "--help").stdout.decode().split())
    assert "(default: 5.0)" in out


# Slow: a demo started to be SIGKILLed. It checks the tests' own fixture (what it ends when
# a demo could not), not the product; `make test` runs it.
@pytest.mark.slow
@pytest.mark.timeout(60)
async def test_the_fixture_ends_a_killed_demos_children(unused_tcp_port_factory) -> None:
    """A demo SIGKILLed (as ``stop`` does to one that is slow to stop) cannot stop its
    children; the tests' ``Processes`` ends them from the pids the demo printed."""
    processes = Processes()
    demo = processes.start(
        "v2", "demo", "--nodes", "1", "--registry-port", str(unused_tcp_port_factory()),
        "--first-node-port", str(free_run(1)), "--no-dashboard",
    )  # fmt: skip
    await demo.wait_for_log(r"  n1 +http://\S+ +pid \d+", timeout=20)
    pids = children_it_printed(demo)
    assert len(pids) == 2, demo.log  # the registry and n1
    demo.kill()  # no chance to stop them
    assert children_it_printed(demo) == pids  # orphans, still running
    processes.stop_all()
    await wait_until(lambda: not children_it_printed(demo), timeout=10, what="the orphans to end")
