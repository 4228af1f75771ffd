"""Majority vote between real processes: ``ddb v2.1 node --election quorum --voters n1,...,n5``.

The acceptance scenarios of the majority-vote page, driven as a person would drive
them by hand: kill nodes, stop and continue them, and read every node's status.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import pytest

from stages.v2_1_election.quorum import QuorumConfig
from workbench.cluster import Cluster
from workbench.harness import LOADED, SETUP, Processes, run_ddb, wait_until

pytestmark = pytest.mark.timeout(120)

NAMES = [f"n{i}" for i in range(1, 6)]
QUORUM = ("--election", "quorum", "--voters", "n1,n2,n3,n4,n5")
TIMINGS = QuorumConfig(voters=tuple(NAMES)).timings()  # the defaults the nodes run with
# Once a leader is gone: detection, and two split votes allowed for (3.1 s), plus the load.
ELECTED = TIMINGS.liveness_bound + LOADED


@pytest.fixture
async def cluster(processes: Processes, tmp_path: Path) -> Cluster:
    cluster = Cluster(processes)
    await cluster.start_registry()
    return cluster


async def start_five(cluster: Cluster, tmp_path: Path) -> None:
    for name in NAMES:
        (tmp_path / name).mkdir()
    await asyncio.gather(
        *(
            cluster.start_node(name, 0, *QUORUM, "--data-dir", str(tmp_path / name))
            for name in NAMES
        )
    )


async def nobody_leads_for(cluster: Cluster, seconds: float) -> None:
    """Poll every node for ``seconds``: none may claim to lead at any poll."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        statuses = await cluster.statuses()
        leaders = [n for n, s in statuses.items() if s is not None and s["role"] == "leader"]
        assert leaders == [], f"{leaders} claim to lead a minority: {statuses}"
        await asyncio.sleep(0.05)


# Slow: five nodes, two failovers and 2 s of watching a minority. A real-process quorum
# failover within its bound is the stopped-leader test below; that a minority elects
# nobody and only voters count, the core's tests (test_quorum.py, test_voters.py).
@pytest.mark.slow
async def test_a_majority_survives_two_kills_and_a_minority_elects_nobody(
    cluster: Cluster, tmp_path: Path
) -> None:
    await start_five(cluster, tmp_path)
    leader, term = await cluster.wait_for_agreement(timeout=SETUP)
    statuses = await cluster.statuses()
    assert {s["algorithm"] for s in statuses.values() if s} == {"quorum"}
    doomed = [leader, next(n for n in NAMES if n != leader)]
    cluster.nodes[leader].kill()
    killed = time.monotonic()  # the failover starts with the leader's death
    cluster.nodes[doomed[1]].kill()
    new_leader, new_term = await cluster.wait_for_agreement(timeout=ELECTED)
    took = cluster.agreed_at - killed
    assert took <= ELECTED, (
        f"{took:.2f}s to a new leader (liveness bound {TIMINGS.liveness_bound}s + {LOADED}s load)"
    )
    assert new_leader not in doomed and new_term > term
    cluster.nodes[new_leader].kill()  # two of five left: no majority
    survivors = list(cluster.live())

    async def nobody_leads() -> bool:
        statuses = await cluster.statuses(survivors)
        return all(s is not None and s["role"] != "leader" for s in statuses.values())

    # The two were following the killed leader; they only have to answer.
    await wait_until(nobody_leads, timeout=LOADED, what="the minority to have no leader")
    await nobody_leads_for(cluster, 2.0)


async def test_a_stopped_leader_is_replaced_and_steps_down_when_continued(
    cluster: Cluster, tmp_path: Path
) -> None:
    await start_five(cluster, tmp_path)
    leader, term = await cluster.wait_for_agreement(timeout=SETUP)
    stopped = cluster.nodes[leader]
    stopped.signal(signal.SIGSTOP)
    try:
        others = [name for name in NAMES if name != leader]
        new_leader, new_term = await cluster.wait_for_agreement(timeout=ELECTED, names=others)
        assert new_leader != leader and new_term > term
    finally:
        stopped.signal(signal.SIGCONT)
    # Continued, it steps down at its first tick (every ack it has is older than T), and
    # follows at the new leader's next heartbeat: well within stale_leader_bound.
    back = TIMINGS.stale_leader_bound + LOADED
    assert await cluster.wait_for_agreement(timeout=back) == (new_leader, new_term)
    await stopped.wait_for_log(f"{leader} became follower", timeout=LOADED)


async def test_without_a_data_dir_a_node_warns_that_a_restart_can_break_safety(
    cluster: Cluster,
) -> None:
    node = await cluster.start_node("n1", 0, "--election", "quorum", "--voters", "n1")
    await node.wait_for_log("n1 keeps its term and vote in memory only")
    assert await cluster.wait_for_agreement(timeout=SETUP) == ("n1", 1)


# Slow: a node started twice. The vote handed out to keep before the reply, and what a
# restart reads back, are test_quorum.py's (the core and the vote file, on disk).
@pytest.mark.slow
async def test_a_node_restarted_with_its_data_dir_keeps_its_term_and_vote(
    cluster: Cluster, tmp_path: Path
) -> None:
    args = ("--election", "quorum", "--voters", "n1", "--data-dir", str(tmp_path))
    node = await cluster.start_node("n1", 0, *args)
    assert await cluster.wait_for_agreement(timeout=SETUP) == ("n1", 1)
    assert not node.find("in memory only")
    assert json.loads((tmp_path / "vote.json").read_text()) == {"term": 1, "voted_for": "n1"}
    node.stop()
    await cluster.start_node("n1", 0, *args)
    assert await cluster.wait_for_agreement(timeout=SETUP) == ("n1", 2)  # never term 1 again


def test_a_corrupt_vote_file_stops_the_node_at_start_up(tmp_path: Path) -> None:
    (tmp_path / "vote.json").write_text('{"term": "seven"}', encoding="utf-8")
    args = ["--name", "n1", "--election", "quorum", "--voters", "n1,n2,n3"]
    args += ["--data-dir", str(tmp_path)]
    result = run_ddb("v2.1", "node", "-ra", "http://127.0.0.1:9", "--port", "0", *args)
    assert result.returncode == 1
    assert "vote.json is corrupt" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
