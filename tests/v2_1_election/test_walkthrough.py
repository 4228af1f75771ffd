"""The "Run it" walkthrough of docs/v2-1-election.md, step by step, as a person types it.

A person starts the registry, then ``n1``, and only then, seconds later, ``n2`` and ``n3``:
by then ``n1`` has led for a while, and joining never deposes a leader. Each step checks the
claim the page makes about it, with the same commands (``ddb nodes``, ``kill -9 PID``,
``ddb status``) the page shows.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from workbench.cluster import FAILOVER_LOADED, Cluster
from workbench.harness import Processes, run_ddb, wait_until

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

PAUSE = 2.0  # seconds the leader stays stopped


def ddb_nodes(registry: str) -> dict[str, dict[str, str]]:
    """``ddb nodes`` as a person reads it: one row per node, by column."""
    lines = run_ddb("nodes", "--registry", registry).stdout.decode().splitlines()
    header = lines[0].replace("LAST SEEN", "LAST_SEEN").split()
    assert header == ["NAME", "PID", "URL", "LAST_SEEN", "ROLE", "TERM", "LEADER"]
    rows = {}
    for line in lines[1:]:
        cells = line.replace("s ago", "s_ago").split()
        rows[cells[0]] = dict(zip(header, cells, strict=True))
    return rows


async def test_the_v21_walkthrough_as_a_person_types_it(processes: Processes) -> None:
    cluster = Cluster(processes)
    await cluster.start_registry()

    # n1 alone: it hears no leader for leader_timeout, asks nobody, and leads at term 1.
    n1 = await cluster.start_node("n1")
    await n1.wait_for_log("n1 became candidate at term 1, asking nobody", timeout=5)
    await n1.wait_for_log("n1 became leader at term 1", timeout=5)

    # Seconds later, n2, then n3: both rank higher, both follow n1 (sticky leadership).
    n2 = await cluster.start_node("n2")
    await n2.wait_for_log("n2 became follower of n1 at term 1", timeout=5)
    n3 = await cluster.start_node("n3")
    await n3.wait_for_log("n3 became follower of n1 at term 1", timeout=5)
    assert await cluster.wait_for_agreement(timeout=3) == ("n1", 1)
    assert not n2.find("became leader") and not n3.find("became leader")

    # `ddb nodes` names the leader and its PID; that PID is the n1 we started.
    rows = ddb_nodes(cluster.registry)
    assert [(r["NAME"], r["ROLE"], r["TERM"], r["LEADER"]) for r in rows.values()] == [
        ("n1", "leader", "1", "n1"),
        ("n2", "follower", "1", "n1"),
        ("n3", "follower", "1", "n1"),
    ]
    assert {name: int(r["PID"]) for name, r in rows.items()} == {
        name: node.proc.pid for name, node in cluster.nodes.items()
    }

    # kill -9 PID: n2 and n3 elect the highest survivor, n3, at a higher term.
    port = int(n1.url.rsplit(":", 1)[1])
    os.kill(int(rows["n1"]["PID"]), signal.SIGKILL)
    n1.proc.wait(timeout=10)
    leader, term = await cluster.wait_for_agreement(timeout=FAILOVER_LOADED, names=["n2", "n3"])
    assert leader == "n3" and term > 1
    noticed = r"(n2|n3) heard nothing from n1 for 0\.50s"  # whoever's deadline came first
    await wait_until(lambda: n2.find(noticed) or n3.find(noticed), timeout=2, what=noticed)
    await n3.wait_for_log(f"n3 became leader at term {term}", timeout=2)
    status = run_ddb("status", "--url", n2.url).stdout.decode().splitlines()
    assert f"leader     n3 ({n3.url})" in status and f"term       {term}" in status

    # The registry lists n1 until its entry expires; its PID and role are "-" meanwhile.
    rows = ddb_nodes(cluster.registry)
    if "n1" in rows:
        assert (rows["n1"]["PID"], rows["n1"]["ROLE"]) == ("-", "-")

    # Restarted at its old address, n1 follows n3 instead of bullying its way back.
    back = await cluster.start_node("n1", port)
    await back.wait_for_log(f"n1 became follower of n3 at term {term}", timeout=5)
    assert await cluster.wait_for_agreement(timeout=3) == ("n3", term)
    assert not back.find("became leader")

    # Paused with kill -STOP, the leader is silent: n1 and n2 elect n2 at a newer term.
    paused_pid = int(ddb_nodes(cluster.registry)["n3"]["PID"])
    os.kill(paused_pid, signal.SIGSTOP)
    stopped_at = time.monotonic()
    try:
        leader2, term2 = await cluster.wait_for_agreement(
            timeout=FAILOVER_LOADED, names=["n1", "n2"]
        )
        assert leader2 == "n2" and term2 > term
        # A pause of seconds, as by hand: long past the half second in which the peers cut
        # their streams to a node that answers no ping (not a wait for a condition: the fault).
        await asyncio.sleep(max(0.0, stopped_at + PAUSE - time.monotonic()))
    finally:
        os.kill(paused_pid, signal.SIGCONT)

    # Woken with kill -CONT, n3 finds no Election waiting for it (they went with the cut
    # streams) and follows n2 at its term. Had an Election waited for it (a pause shorter
    # than the cut), Bully would have it run its own and take the lead back: both are right.
    await n3.wait_for_log("n3 was not running for", timeout=5)
    leader3, term3 = await cluster.wait_for_agreement(timeout=5)
    since_woken = n3.log.split("was not running for", 1)[1]
    if "became candidate" not in since_woken:
        assert (leader3, term3) == ("n2", term2)
        await n3.wait_for_log(f"n3 became follower of n2 at term {term2}", timeout=2)
        expected = "n2"
    else:  # the other way: it leads, at a newer term still
        leader3, term3 = await cluster.wait_for_agreement(timeout=5, leader="n3")
        assert term3 > term2
        expected = "n3"
    assert not [name for name, node in cluster.nodes.items() if "Traceback" in node.log]

    async def the_table_agrees() -> bool:
        rows = ddb_nodes(cluster.registry)
        return [r["LEADER"] for r in rows.values()] == [expected] * 3

    await wait_until(the_table_agrees, timeout=5, what=f"ddb nodes to show {expected} leading")
