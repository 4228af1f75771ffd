"""Elections between real processes, started with the same ``ddb`` commands a user types.

These are the scenarios of the original project's cluster tests, and more. The
timings are the defaults (heartbeat 0.1 s, leader timeout 0.5 s), so a failover
takes about 0.7 s; the assertions allow the bound those timings imply
(``FAILOVER``, 1.5 s) plus ``LOADED`` for a busy machine.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time

import pytest

from workbench.cluster import FAILOVER, FAILOVER_LOADED, Cluster
from workbench.harness import SETUP, Processes, wait_until

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def cluster(processes: Processes) -> Cluster:
    cluster = Cluster(processes)
    await cluster.start_registry()
    return cluster


async def test_a_single_node_elects_itself(cluster: Cluster) -> None:
    node = await cluster.start_node("n1")
    assert await cluster.wait_for_agreement(timeout=SETUP) == ("n1", 1)
    await node.wait_for_log("n1 became leader at term 1")


async def test_nodes_joining_later_follow_the_first_even_if_they_rank_higher(
    cluster: Cluster,
) -> None:
    await cluster.start_node("n1")
    leader, term = await cluster.wait_for_agreement(timeout=SETUP)
    assert leader == "n1"
    n2 = await cluster.start_node("n2")
    n3 = await cluster.start_node("n3")
    assert await cluster.wait_for_agreement(timeout=SETUP, leader="n1") == ("n1", term)
    assert n2.find(f"n2 became follower of n1 at term {term}")
    assert n3.find(f"n3 became follower of n1 at term {term}")
    for node in (n2, n3):
        assert not node.find("became leader")


# Two nodes is slow: three nodes is the same failover with the same bound, and two alone
# (a survivor that needs nobody's answer) is the core's (test_bully.py) and the simulator's.
@pytest.mark.parametrize("size", [pytest.param(2, marks=pytest.mark.slow), 3])
async def test_killing_the_leader_gives_the_survivors_one_new_leader_within_the_bound(
    cluster: Cluster, size: int
) -> None:
    names = [f"n{i}" for i in range(1, size + 1)]
    await cluster.start_nodes(names)
    leader, term = await cluster.wait_for_agreement(timeout=SETUP)
    cluster.nodes[leader].kill()
    killed = time.monotonic()
    survivors = [name for name in names if name != leader]
    new_leader, new_term = await cluster.wait_for_agreement(
        timeout=FAILOVER_LOADED, names=survivors
    )
    took = cluster.agreed_at - killed
    assert new_leader == max(survivors)  # Bully: the highest-ranked survivor wins
    assert new_term > term
    assert took < FAILOVER_LOADED, f"failover took {took:.2f}s (rules: {FAILOVER}s, + load)"


# Slow: a pause held 2 s. A stopped leader replaced within its bound, that steps down once
# continued, is test_quorum_processes.py's; Bully's paused leader, the simulator's runs.
@pytest.mark.slow
async def test_a_paused_leader_comes_back_to_one_agreed_leader_at_a_higher_term(
    cluster: Cluster,
) -> None:
    await cluster.start_nodes(["n1", "n2", "n3"])
    leader, term = await cluster.wait_for_agreement(timeout=SETUP)
    paused = cluster.nodes[leader]
    paused.signal(signal.SIGSTOP)  # like a long GC pause: alive, but silent
    paused_at = time.monotonic()
    try:
        others = [name for name in cluster.nodes if name != leader]
        await cluster.wait_for_agreement(timeout=FAILOVER_LOADED, names=others)  # moved on
        await asyncio.sleep(max(0.0, 2 - (time.monotonic() - paused_at)))  # the rest of the pause
    finally:
        paused.signal(signal.SIGCONT)
    final_leader, final_term = await cluster.wait_for_agreement(timeout=FAILOVER_LOADED)
    statuses = await cluster.statuses()
    assert len(statuses) == 3 and all(statuses.values())
    assert [n for n, s in statuses.items() if s and s["role"] == "leader"] == [final_leader]
    assert final_term > term


# Slow: three failovers in a row. Each one alone, with its bound, is the killed-leader test
# above (2 and 3 nodes); repeated crashes are the simulator's trials.
@pytest.mark.slow
async def test_five_nodes_survive_three_leader_kills_each_time_electing_the_highest_survivor(
    cluster: Cluster,
) -> None:
    names = [f"n{i}" for i in range(1, 6)]
    await cluster.start_nodes(names)
    leader, term = await cluster.wait_for_agreement(timeout=SETUP)
    for _ in range(3):
        cluster.nodes[leader].kill()
        killed = time.monotonic()
        expected = max(cluster.live())
        leader, new_term = await cluster.wait_for_agreement(
            timeout=FAILOVER_LOADED, names=list(cluster.live()), leader=expected
        )
        took = cluster.agreed_at - killed
        assert took < FAILOVER_LOADED, f"failover took {took:.2f}s (rules: {FAILOVER}s, + load)"
        assert new_term > term
        term = new_term


# Slow: two pauses held 1.5 s each. Pausing a real node is also the dashboard's pause test,
# and pauses under every election checker are the simulator's runs (test_sim_simulator.py).
@pytest.mark.slow
async def test_a_paused_follower_comes_back_without_deposing_the_leader(cluster: Cluster) -> None:
    await cluster.start_nodes(["n1", "n2", "n3"])
    leader, term = await cluster.wait_for_agreement(timeout=SETUP)
    follower = min(name for name in cluster.nodes if name != leader)
    paused = cluster.nodes[follower]
    # Logged once per pause, but also once per stall over 0.2 s (a busy machine): count only
    # the gaps of a second or more, as our pauses (1.5 s) are.
    noticed = re.compile(rf"{follower} was not running for (\d+\.\d+)s")

    def pauses_noticed() -> int:
        return sum(float(seconds) >= 1.0 for seconds in noticed.findall(paused.log))

    for pauses in (1, 2):
        paused.signal(signal.SIGSTOP)
        stopped_at = time.monotonic()
        # While it is stopped, the others carry on with the same leader and term.
        others = [name for name in cluster.nodes if name != follower]
        assert await cluster.wait_for_agreement(timeout=SETUP, names=others) == (leader, term)
        await asyncio.sleep(max(0.0, 1.5 - (time.monotonic() - stopped_at)))  # hold the pause
        paused.signal(signal.SIGCONT)
        await wait_until(  # this pause's line, not the first pause's again
            lambda n=pauses: pauses_noticed() >= n, timeout=SETUP, what=noticed.pattern
        )
        assert await cluster.wait_for_agreement(timeout=SETUP) == (leader, term)
    assert not paused.find("became candidate at term " + str(term + 1))


# Slow: a failover and a restart. A node that joins a cluster with a leader follows it,
# whatever its rank, is the joining test above; a restarted node that asks who leads, the
# simulator's (test_sim_simulator.py).
@pytest.mark.slow
async def test_a_killed_leader_restarted_follows_the_new_leader(cluster: Cluster) -> None:
    await cluster.start_nodes(["n1", "n2", "n3"])
    leader, _ = await cluster.wait_for_agreement(timeout=SETUP)
    port = int(cluster.nodes[leader].url.rsplit(":", 1)[1])
    cluster.nodes[leader].kill()
    survivors = [name for name in cluster.nodes if name != leader]
    new_leader, term = await cluster.wait_for_agreement(timeout=FAILOVER_LOADED, names=survivors)
    back = await cluster.start_node(leader, port)  # same name, same address: as by hand
    assert await cluster.wait_for_agreement(timeout=SETUP) == (new_leader, term)
    assert back.find(f"{leader} became follower of {new_leader} at term {term}")
    assert not back.find("became leader")
