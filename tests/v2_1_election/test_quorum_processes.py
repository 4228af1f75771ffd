"""Majority vote between real processes: ``ddb v2.1 node --election quorum --cluster-size 5``.

The acceptance scenarios of the majority-vote page, driven as a person would drive
them by hand: kill nodes, stop and continue them, and read every node's status.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from tests.support import Processes, wait_until
from tests.v2_1_election.cluster import Cluster

pytestmark = pytest.mark.timeout(120)

NAMES = [f"n{i}" for i in range(1, 6)]
QUORUM = ("--election", "quorum", "--cluster-size", "5")


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


async def test_a_majority_survives_two_kills_and_a_minority_elects_nobody(
    cluster: Cluster, tmp_path: Path
) -> None:
    await start_five(cluster, tmp_path)
    leader, term = await cluster.wait_for_agreement(timeout=10)
    statuses = await cluster.statuses()
    assert {s["algorithm"] for s in statuses.values() if s} == {"quorum"}
    doomed = [leader, next(n for n in NAMES if n != leader)]
    for name in doomed:
        cluster.nodes[name].kill()
    killed = time.monotonic()
    new_leader, new_term = await cluster.wait_for_agreement(timeout=3)
    assert time.monotonic() - killed < 3
    assert new_leader not in doomed and new_term > term
    cluster.nodes[new_leader].kill()  # two of five left: no majority
    survivors = list(cluster.live())

    async def nobody_leads() -> bool:
        statuses = await cluster.statuses(survivors)
        return all(s is not None and s["role"] != "leader" for s in statuses.values())

    await wait_until(nobody_leads, timeout=3, what="the minority to have no leader")
    await nobody_leads_for(cluster, 2.0)


async def test_a_stopped_leader_is_replaced_and_steps_down_when_continued(
    cluster: Cluster, tmp_path: Path
) -> None:
    await start_five(cluster, tmp_path)
    leader, term = await cluster.wait_for_agreement(timeout=10)
    stopped = cluster.nodes[leader]
    stopped.signal(signal.SIGSTOP)
    try:
        others = [name for name in NAMES if name != leader]
        new_leader, new_term = await cluster.wait_for_agreement(timeout=3, names=others)
        assert new_leader != leader and new_term > term
    finally:
        stopped.signal(signal.SIGCONT)
    assert await cluster.wait_for_agreement(timeout=3) == (new_leader, new_term)
    await stopped.wait_for_log(f"{leader} became follower", timeout=5)
