"""The unsafe shortcuts (``ddb simulate --algorithm raft --unsafe ...``): each one is caught.

Random seeds catch ``no-log-check-on-vote`` and ``ack-before-sync`` within a few seeds
(the seeds are stated here, and a test runs just that many). ``commit-old-term`` hides
behind the new leader's no-op: entries of an earlier term reach a follower in the same
message as the no-op, so counting them commits nothing the correct rule would not, unless
the follower is more than one batch behind. Random runs never get there; Figure 8, with a
follower more than :data:`~stages.v3_replicated_log.messages.MAX_BATCH` entries behind,
does, and the same script with the correct core keeps every property; so does the
simulator's scenario ``workbench/sim/scenarios/figure-8.txt``, on three nodes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from stages.v2_1_election.core import HardState, Role
from stages.v3_replicated_log.messages import MAX_BATCH, Entry
from stages.v3_replicated_log.raft import RaftCore
from tests.v3_replicated_log.cluster import Cluster
from tests.v3_replicated_log.test_random import NAMES, check_safety
from workbench.sim.checkers import check
from workbench.sim.nemesis import node_names, parse_scenario
from workbench.sim.network import NetworkConfig
from workbench.sim.simulator import SimConfig, simulate
from workbench.sim.unsafe import CommitOldTerm

# the acceptance run's faults
FAULTS = SimConfig(
    algorithm="raft",
    nemesis=(("crash", 0.1), ("partition", 0.05), ("pause", 0.1)),
    network=NetworkConfig(drop=0.05, duplicate=0.05),
)
# --8<-- [start:caught]
CAUGHT_BY_SEED = {  # the shortcut -> the first seed (from 1) on which the checkers catch it
    "no-log-check-on-vote": 6,  # 5 of seeds 1-40
    "ack-before-sync": 4,  # 7 of seeds 1-40
}
# --8<-- [end:caught]


def failed(config: SimConfig) -> list[str]:
    records = simulate(config).records
    return [v.name for v in check(records, config.election.timings()) if v.ok is False]


@pytest.mark.parametrize("shortcut", sorted(CAUGHT_BY_SEED))
def test_each_unsafe_shortcut_is_caught_within_its_stated_seeds(shortcut: str) -> None:
    seed = CAUGHT_BY_SEED[shortcut]
    unsafe = replace(FAULTS, seed=seed, unsafe=(shortcut,))
    assert failed(unsafe), f"--unsafe {shortcut} not caught on seed {seed}"
    assert failed(replace(unsafe, unsafe=())) == [], f"seed {seed} fails without the shortcut"


def test_no_log_check_on_vote_breaks_the_log_and_the_history() -> None:
    config = replace(FAULTS, seed=CAUGHT_BY_SEED["no-log-check-on-vote"])
    found = failed(replace(config, unsafe=("no-log-check-on-vote",)))
    expected = {"leader completeness", "state-machine safety", "acked writes kept"}
    assert expected | {"linearizable"} <= set(found)


def test_ack_before_sync_restarts_a_node_without_what_it_acknowledged() -> None:
    config = replace(FAULTS, seed=CAUGHT_BY_SEED["ack-before-sync"])
    assert "synced before sent" in failed(replace(config, unsafe=("ack-before-sync",)))


def figure_8(core: type[RaftCore]) -> Cluster:
    """n1 and n2 hold a long tail of term 2, n5 alone an entry 2 of term 3; n1 wins term 4
    and repairs n3 and n4 a batch at a time; it is cut off after the first batch's acks."""
    cluster = Cluster(NAMES, core=core)
    first = [Entry(1, 1, "e1")]
    tail = [Entry(i, 2, f"e{i}") for i in range(2, MAX_BATCH + 8)]  # more than a batch
    for name, entries in [("n1", tail), ("n2", tail), ("n3", []), ("n4", [])]:
        cluster.restart(name, HardState(3), first + entries)
    cluster.restart("n5", HardState(3), [*first, Entry(2, 3, "x")])
    cluster.isolate("n5")
    cluster.tick("n1")
    while cluster.nodes["n1"].core.role is not Role.LEADER:
        cluster.deliver()
    for _ in range(4):  # its no-op to n2; n3 and n4 refuse, get one batch, acknowledge it
        cluster.deliver()
    cluster.cut.clear()
    cluster.isolate("n1")  # before the rest reaches anyone
    for _ in range(3):  # n5 campaigns until it leads (its first pre-vote is for a past term)
        cluster.now += 10  # long enough that n3 and n4 no longer count on a leader
        cluster.tick("n5")
        cluster.settle()
        if cluster.nodes["n5"].core.role is Role.LEADER:
            break
    cluster.tick("n5")  # its heartbeat tells n3 and n4 what it committed
    cluster.settle()
    return cluster


def test_commit_old_term_is_caught_in_figure_8() -> None:
    cluster = figure_8(CommitOldTerm)
    assert cluster.nodes["n1"].applied[-1] == Entry(MAX_BATCH + 1, 2, f"e{MAX_BATCH + 1}")
    with pytest.raises(AssertionError, match="applied different entries"):
        check_safety(cluster, {})


def test_figure_8_keeps_every_property_with_the_commit_rule() -> None:
    cluster = figure_8(RaftCore)
    assert cluster.nodes["n1"].applied == []  # nothing of term 2 counted as committed
    check_safety(cluster, {})


def test_commit_old_term_is_caught_in_the_simulators_figure_8_and_the_rule_keeps_it_safe() -> None:
    scenario = Path(__file__).parents[2] / "workbench/sim/scenarios/figure-8.txt"
    faults = parse_scenario(scenario.read_text(encoding="utf-8"), node_names(3))
    config = SimConfig(nodes=3, duration=8.0, algorithm="raft", scenario=tuple(faults))
    found = failed(replace(config, unsafe=("commit-old-term",)))
    assert {"leader completeness", "state-machine safety"} <= set(found)
    assert failed(config) == []
