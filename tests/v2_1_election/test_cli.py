"""The v2.1 command line: ``ddb status``, ``ddb nodes`` with roles, and refused timings."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workbench.cluster import Cluster
from workbench.harness import SETUP, Processes, run_ddb

pytestmark = pytest.mark.timeout(60)


async def test_status_and_nodes_show_role_term_and_leader(processes: Processes) -> None:
    cluster = Cluster(processes)
    await cluster.start_registry()
    await cluster.start_nodes(["n1", "n2"])
    leader, term = await cluster.wait_for_agreement(timeout=SETUP)

    out = run_ddb("status", "--url", cluster.nodes[leader].url).stdout.decode()
    lines = dict(line.split(None, 1) for line in out.splitlines())
    assert lines["name"] == leader and lines["role"] == "leader"
    assert lines["term"] == str(term) and lines["algorithm"] == "bully"
    assert lines["leader"] == f"{leader} ({cluster.nodes[leader].url})"

    table = run_ddb("nodes", "--registry", cluster.registry).stdout.decode().splitlines()
    assert table[0].split() == ["NAME", "PID", "URL", "LAST", "SEEN", "ROLE", "TERM", "LEADER"]
    rows = {row.split()[0]: row.split() for row in table[1:]}
    assert rows[leader][1] == str(cluster.nodes[leader].proc.pid)
    assert rows[leader][-3:] == ["leader", str(term), leader]
    follower = "n1" if leader == "n2" else "n2"
    assert rows[follower][-3:] == ["follower", str(term), leader]


async def test_status_and_nodes_print_json_for_scripts(processes: Processes) -> None:
    cluster = Cluster(processes)
    await cluster.start_registry()
    await cluster.start_nodes(["n1", "n2"])
    leader, term = await cluster.wait_for_agreement(timeout=SETUP)

    status = json.loads(run_ddb("status", "--url", cluster.nodes[leader].url, "--json").stdout)
    assert (status["name"], status["role"], status["term"]) == (leader, "leader", term)
    assert status["voter"] is True and status["algorithm"] == "bully"

    entries = json.loads(run_ddb("nodes", "--registry", cluster.registry, "--json").stdout)
    by_name = {entry["name"]: entry for entry in entries}
    assert set(by_name) == {"n1", "n2"}
    assert by_name[leader]["pid"] == cluster.nodes[leader].proc.pid
    assert by_name[leader]["url"] == cluster.nodes[leader].url
    assert {e["election"]["leader"] for e in entries} == {leader}


def test_status_of_an_unreachable_node_is_a_one_line_error(unused_tcp_port: int) -> None:
    result = run_ddb("status", "--url", f"http://127.0.0.1:{unused_tcp_port}", "--timeout", "2")
    assert result.returncode == 1
    assert result.stderr.decode().startswith("ddb: error: cannot reach")


@pytest.mark.parametrize(
    ("flags", "complaint"),
    [
        (["--leader-timeout", "0.2"], b"must be at least 3 times heartbeat_interval"),
        (["--answer-timeout", "1", "--victory-timeout", "0.5"], b"victory_timeout"),
        (["--heartbeat-interval", "0"], b"must be a number greater than 0"),
    ],
)
def test_inconsistent_timings_are_refused_before_starting(
    flags: list[str], complaint: bytes
) -> None:
    result = run_ddb("v2.1", "node", "-ra", "http://127.0.0.1:9", "--port", "0", *flags)
    assert result.returncode != 0
    assert complaint in result.stderr
    assert b"Traceback" not in result.stderr


def test_python_dash_m_runs_the_v21_node_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stages.v2_1_election", "--help"], capture_output=True, timeout=20
    )
    assert result.returncode == 0
    assert (
        b"--leader-timeout" in result.stdout and b"--registry-heartbeat-interval" in result.stdout
    )
