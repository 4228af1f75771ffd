"""Seeded random runs of five log cores: links cut and healed, messages lost, duplicated
and reordered, nodes restarted from what they persisted. After every step, Raft's
safety properties must hold; once the faults stop, the cluster must commit again.

A failure names its seed; replay it with ``run(seed)``. (The simulator's version, with
clients and the linearizability checker, is the next part of issue 25.)
"""

from __future__ import annotations

import random

import pytest

from stages.v2_1_election.core import Role
from tests.v3_replicated_log.cluster import Cluster

NAMES = ["n1", "n2", "n3", "n4", "n5"]


def check_safety(cluster: Cluster, leaders: dict[int, str]) -> None:
    """Raft's Figure 3 properties, on the cluster as it is after a step."""
    committed = cluster.commits  # each entry a leader committed, and the leader's term
    nodes = cluster.nodes.values()
    for node in nodes:  # election safety: one leader per term
        core = node.core
        if core.role is Role.LEADER:
            assert leaders.setdefault(core.term, core.name) == core.name, "two leaders in a term"
    logs = [node.core.log.entries for node in nodes]
    for a in logs:  # log matching: same index and term -> the same prefix
        for b in logs:
            same = [i for i in range(min(len(a), len(b))) if a[i].term == b[i].term]
            if same:
                assert a[: same[-1] + 1] == b[: same[-1] + 1], "logs differ before a match"
    applied = sorted((node.applied for node in nodes), key=len)
    for shorter in applied:  # state-machine safety: one sequence, applied prefixes of it
        assert applied[-1][: len(shorter)] == shorter, "two nodes applied different entries"
    assert set(applied[-1]) <= set(committed), "a node applied an entry no leader committed"
    for node in nodes:  # leader completeness: a later term's leader has every committed entry
        if node.core.role is Role.LEADER:
            owed = {entry for entry, term in committed.items() if term < node.core.term}
            assert owed <= set(node.core.log.entries), "a leader lacks a committed entry"


def run(seed: int, steps: int = 400) -> Cluster:
    rng = random.Random(seed)
    cluster = Cluster(NAMES, seed=seed)
    leaders: dict[int, str] = {}
    proposed = 0
    for _ in range(steps):
        roll = rng.random()
        if roll < 0.25:
            cluster.tick(rng.choice(NAMES))
        elif roll < 0.45:
            leader = next((n for n in cluster.nodes.values() if n.core.role is Role.LEADER), None)
            if leader is not None:
                proposed += 1
                cluster.propose(leader.core.name, f"w{proposed}")
        elif roll < 0.75:
            if cluster.queue and rng.random() < 0.2:
                cluster.queue.rotate(rng.randrange(len(cluster.queue)))  # reorder
            if cluster.queue and rng.random() < 0.1:
                cluster.queue.append(cluster.queue[0])  # duplicate
            if cluster.queue and rng.random() < 0.1:
                cluster.queue.popleft()  # lose one
            cluster.deliver()
        elif roll < 0.85:
            cluster.cut.add(frozenset(rng.sample(NAMES, 2)))
        elif roll < 0.95:
            cluster.cut.clear()
        else:
            cluster.crash(rng.choice(NAMES))
        check_safety(cluster, leaders)
    return cluster


def recover(cluster: Cluster, rounds: int = 40) -> None:
    """No more faults: a leader emerges and commits a last write (proposed again, as a
    client retries, if a leader was deposed before storing it), which every node applies."""
    cluster.cut.clear()
    for _ in range(rounds):
        cluster.settle()
        applied = [[e.data for e in node.applied] for node in cluster.nodes.values()]
        if all("last" in each for each in applied):
            return
        leaders = [n.core for n in cluster.nodes.values() if n.core.role is Role.LEADER]
        if not leaders:
            cluster.tick(min(NAMES, key=lambda name: cluster.nodes[name].core.deadline))
            continue
        leader = max(leaders, key=lambda core: core.term)  # an older one may not know yet
        if all(entry.data != "last" for entry in leader.log.entries):
            cluster.propose(leader.name, "last")
        else:
            cluster.tick(leader.name)  # its heartbeat tells the followers the commit index
    raise AssertionError(f"not every node applied the last write in {rounds} rounds")


@pytest.mark.parametrize("seed", range(1, 41))
def test_safety_holds_under_random_faults_and_the_cluster_recovers(seed: int) -> None:
    cluster = run(seed)
    recover(cluster)
