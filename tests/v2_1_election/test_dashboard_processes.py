"""The dashboard of a real demo: its API signals the real processes, and the demo leaves
nothing behind when it stops, paused and killed children included."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import pytest

from stages.v2_1_election.quorum import QuorumConfig
from tests.demo import by_name, call, cluster, dashboard_url, settled, start_demo
from workbench.harness import (
    LOADED,
    SETUP,
    Processes,
    children_it_printed,
    run_ddb,
    still_ours,
    wait_until,
)

QUORUM_TIMINGS = QuorumConfig(voters=("n1", "n2", "n3")).timings()


def kernel_state(pid: int) -> str:
    """The process state letter ``ps -o stat`` shows first (``T``: stopped)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


# Slow: a demo paused and resumed. Pause and resume through the API are
# tests/v2_registry/test_dashboard_http.py's (in-process); from the page, on real processes,
# test_dashboard_browser.py's pause test; the demo's stop test below pauses a child too.
@pytest.mark.slow
@pytest.mark.timeout(90)
async def test_pause_from_the_api_stops_the_process_and_resume_brings_it_back(
    processes: Processes, unused_tcp_port_factory
) -> None:
    demo = start_demo(processes, unused_tcp_port_factory)
    url = await dashboard_url(demo)
    state = await settled(url)
    follower = next(n for n in state["nodes"] if n["role"] != "leader")
    status, entry = await call("POST", f"{url}/api/nodes/{follower['name']}/pause")
    assert status == 200 and entry["process"] == "paused"
    assert kernel_state(follower["pid"]) == "T"
    assert by_name(await cluster(url))[follower["name"]]["process"] == "paused"

    status, entry = await call("POST", f"{url}/api/nodes/{follower['name']}/resume")
    assert status == 200 and entry["process"] == "running"
    assert kernel_state(follower["pid"]) in "RS"
    await settled(url)  # it follows the same cluster again
    assert demo.stop() == 0


@pytest.mark.timeout(90)
# SIGTERM is slow here: the other demo tests end with `demo.stop() == 0`, which is SIGTERM.
@pytest.mark.parametrize(
    "stop_with",
    [pytest.param(signal.SIGTERM, marks=pytest.mark.slow), signal.SIGINT],
    ids=["SIGTERM", "Ctrl-C"],
)
async def test_the_demo_stops_every_child_even_paused_or_killed_ones(
    processes: Processes, unused_tcp_port_factory, stop_with: signal.Signals
) -> None:
    demo = start_demo(processes, unused_tcp_port_factory)
    url = await dashboard_url(demo)
    state = await settled(url)
    names = sorted(by_name(state))
    assert (await call("POST", f"{url}/api/nodes/{names[0]}/pause"))[0] == 200
    assert (await call("POST", f"{url}/api/nodes/{names[1]}/kill"))[0] == 200
    state = await cluster(url)
    pids = {node["name"]: node["pid"] for node in state["nodes"]}
    pids["registry"] = state["registry"]["pid"]

    demo.proc.send_signal(stop_with)
    assert demo.wait(timeout=SETUP) == 0
    assert demo.log.rstrip().endswith("All stopped.")
    assert [name for name, pid in pids.items() if still_ours(pid, name)] == []
    assert f"{names[0]} deregistered from the registry" in demo.log  # resumed, then stopped


# Slow: a demo and a fourth node. Adding a node through the API is
# tests/v2_registry/test_dashboard_http.py's (in-process); a node that joins a cluster and
# follows the leader it finds, test_processes.py's joining test.
@pytest.mark.slow
@pytest.mark.timeout(90)
async def test_a_node_added_from_the_api_joins_and_follows_the_leader_it_finds(
    processes: Processes, unused_tcp_port_factory
) -> None:
    demo = start_demo(processes, unused_tcp_port_factory)
    url = await dashboard_url(demo)
    before = await settled(url)
    status, entry = await call("POST", f"{url}/api/nodes")
    assert status == 201 and entry["name"] == "n4" and entry["process"] == "running"
    after = await settled(url, nodes=4)
    leader = before["nodes"][0]["leader"]
    assert (by_name(after)["n4"]["role"], by_name(after)["n4"]["leader"]) == ("follower", leader)
    assert demo.stop() == 0


# Slow: a quorum demo, two added nodes and a failover. Adding a node through the API is
# tests/v2_registry/test_dashboard_http.py's (in-process); a non-voter that never campaigns
# or votes, test_voters.py.
@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_nodes_added_to_a_quorum_demo_are_non_voters_and_the_next_leader_is_a_voter(
    processes: Processes, unused_tcp_port_factory
) -> None:
    """The by-hand check of the voters fix: *Add a node* twice, kill the leader."""
    demo = start_demo(processes, unused_tcp_port_factory, "--election", "quorum", room=2)
    url = await dashboard_url(demo)
    await settled(url)
    for name in ("n4", "n5"):
        status, entry = await call("POST", f"{url}/api/nodes")
        assert status == 201 and entry["name"] == name
    state = await settled(url, nodes=5)
    voters = {n["name"]: n["voter"] for n in state["nodes"]}
    assert voters == {"n1": True, "n2": True, "n3": True, "n4": False, "n5": False}
    leader = state["nodes"][0]["leader"]
    assert leader in ("n1", "n2", "n3")
    assert (await call("POST", f"{url}/api/nodes/{leader}/kill"))[0] == 200
    after: dict = {}

    async def one_new_leader() -> bool:
        nonlocal after
        after = by_name(await cluster(url))
        alive = [n for n in after.values() if n["process"] == "running"]
        leaders = {n["leader"] for n in alive}
        return len(alive) == 4 and len(leaders) == 1 and not leaders & {None, leader}

    bound = QUORUM_TIMINGS.liveness_bound + LOADED
    await wait_until(one_new_leader, timeout=bound, what="the four left to agree on a leader")
    new = next(iter({n["leader"] for n in after.values() if n["process"] == "running"}))
    assert new in ("n1", "n2", "n3") and new != leader
    assert [n["name"] for n in after.values() if n["role"] == "leader"] == [new]
    assert demo.stop() == 0


# Slow: a demo, a kill and a restart. Kill then restart through the API is
# tests/v2_registry/test_dashboard_http.py's, in-process; a demo's child killed, the test
# of the demo stopping every child, above.
@pytest.mark.slow
@pytest.mark.timeout(90)
async def test_a_killed_node_restarted_from_the_api_comes_back_as_a_new_process(
    processes: Processes, unused_tcp_port_factory
) -> None:
    demo = start_demo(processes, unused_tcp_port_factory)
    url = await dashboard_url(demo)
    old = by_name(await settled(url))["n1"]
    assert (await call("POST", f"{url}/api/nodes/n1/kill"))[1]["process"] == "dead"
    status, entry = await call("POST", f"{url}/api/nodes/n1/restart")
    assert status == 200 and entry["process"] == "running" and entry["pid"] != old["pid"]
    state = await settled(url)
    assert by_name(state)["n1"]["pid"] == entry["pid"]
    await demo.wait_for_log(r"\*\*\* n1 exited with status -9", timeout=LOADED)
    assert demo.stop() == 0


@pytest.mark.timeout(60)
async def test_the_v2_dashboard_shows_membership_and_no_election(
    processes: Processes, unused_tcp_port_factory
) -> None:
    demo = start_demo(processes, unused_tcp_port_factory, "--nodes", "2", stage="v2")
    url = await dashboard_url(demo)

    async def registered() -> bool:
        return all(node["registered"] for node in (await cluster(url))["nodes"])

    await wait_until(registered, timeout=SETUP, what="both v2 nodes to register")
    state = await cluster(url)
    assert state["stage"] == "v2"
    assert [(n["name"], n["role"], n["term"]) for n in state["nodes"]] == [
        ("n1", None, None),
        ("n2", None, None),
    ]
    assert all(n["last_heartbeat_age"] < 1.0 + LOADED for n in state["nodes"])  # a beat a second
    assert demo.stop() == 0


def test_a_busy_dashboard_port_stops_the_demo_before_it_starts_anything(
    unused_tcp_port_factory,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = run_ddb(
            "v2.1", "demo", "--registry-port", str(unused_tcp_port_factory()),
            "--first-node-port", str(unused_tcp_port_factory()), "--dashboard-port", str(port),
        )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"The dashboard cannot listen on 127.0.0.1:{port}: Address already in use; choose "
        "another port with --dashboard-port (0 picks a free one), or run without it "
        "(--no-dashboard).\n"
    )
    assert b"pid" not in result.stdout  # no child was started


@pytest.mark.timeout(60)
async def test_no_dashboard_serves_no_page(processes: Processes, unused_tcp_port_factory) -> None:
    demo = start_demo(processes, unused_tcp_port_factory, "--nodes", "1", "--no-dashboard")
    await demo.wait_for_log(r"n1 became leader", timeout=SETUP)
    assert demo.stop() == 0
    assert "Dashboard:" not in demo.log


@pytest.mark.timeout(60)
async def test_without_a_dashboard_the_demo_ends_once_every_child_has_exited(
    processes: Processes, unused_tcp_port_factory
) -> None:
    """Nothing could bring the children back, so the demo does not wait for Ctrl-C."""
    demo = start_demo(processes, unused_tcp_port_factory, "--nodes", "1", "--no-dashboard")
    await demo.wait_for_log(r"n1 became leader", timeout=SETUP)
    pids = children_it_printed(demo)
    assert len(pids) == 2, demo.log  # the registry and n1
    for pid in pids:
        os.kill(pid, signal.SIGKILL)  # our demo's own children, by the pids it printed
    await wait_until(lambda: demo.proc.poll() is not None, timeout=SETUP, what="the demo to end")
    assert demo.stop() == 0
    assert "*** registry exited with status -9" in demo.log  # each one reported first
    assert "*** n1 exited with status -9" in demo.log
    assert demo.log.endswith("Every child has exited; the demo ends.\nAll stopped."), demo.log
