"""Each checker on hand-made traces: one that breaks the property, one that keeps it.

A trace is a list of records, so a test can write the few events that matter and
nothing else: no simulator, no randomness.
"""

from __future__ import annotations

import pytest

from stages.v2_1_election.bully import ElectionConfig
from workbench.sim.checkers import (
    election_safety,
    liveness,
    longest_overlap,
    single_leader,
    stability,
)
from workbench.sim.partitions import disruptions, majority_liveness, minority_leader
from workbench.sim.report import budget

pytestmark = pytest.mark.timeout(10)

NODES = ["n1", "n2", "n3"]


def start() -> dict:
    return {"t": 0.0, "event": "start", "nodes": NODES}


def role(t: float, node: str, role: str, term: int, leader: str | None = None) -> dict:
    if role == "leader":
        leader = node
    return {"t": t, "event": "role", "node": node, "role": role, "term": term, "leader": leader}


def event(t: float, name: str, **fields: object) -> dict:
    return {"t": t, "event": name, **fields}


def settled(t: float, leader: str, term: int) -> list[dict]:
    """Every node follows ``leader`` at ``term``, from ``t`` on."""
    return [
        role(t, node, "leader" if node == leader else "follower", term, leader) for node in NODES
    ]


def test_election_safety_catches_two_leaders_in_one_term() -> None:
    records = [start(), role(1.0, "n3", "leader", 4), role(2.5, "n2", "leader", 4)]
    verdict = election_safety(records)
    assert verdict.ok is False
    assert (verdict.at, verdict.nodes) == (2.5, ("n3", "n2"))
    assert "term 4" in verdict.detail


def test_election_safety_accepts_one_leader_per_term_and_a_leader_reelected() -> None:
    records = [start(), role(1.0, "n3", "leader", 4), role(2.0, "n2", "leader", 5)]
    records += [role(3.0, "n2", "follower", 6), role(4.0, "n3", "leader", 7)]
    assert election_safety(records).ok is True


def test_single_leader_catches_two_leaders_at_once_and_measures_the_overlap() -> None:
    records = [
        start(),
        *settled(1.0, "n3", 1),
        event(2.0, "partition", groups=[["n1"], ["n2", "n3"]]),
    ]
    records += [
        role(2.6, "n1", "leader", 2),
        event(4.0, "heal"),
        role(4.1, "n3", "follower", 2, "n1"),
    ]
    records += [event(5.0, "end")]
    verdict = single_leader(records)
    assert verdict.ok is False
    assert (verdict.at, set(verdict.nodes)) == (2.6, {"n1", "n3"})
    assert "1.500 s in all" in verdict.detail


def test_single_leader_ignores_a_crashed_leader_and_an_overlap_of_no_duration() -> None:
    records = [start(), *settled(1.0, "n3", 1), event(2.0, "crash", node="n3")]
    records += [role(2.6, "n2", "leader", 2), event(3.0, "restart", node="n3")]
    records += [role(3.0, "n3", "follower", 0)]  # the fresh core, at once
    records += [event(4.0, "pause", node="n2"), role(4.6, "n3", "leader", 3)]
    records += [event(5.0, "resume", node="n2"), role(5.0, "n2", "follower", 3, "n3")]
    assert single_leader(records).ok is True


def test_liveness_fails_when_the_cluster_does_not_settle_in_time() -> None:
    records = [start(), *settled(1.0, "n3", 1), event(2.0, "crash", node="n3")]
    records += [event(3.0, "calm"), role(3.2, "n2", "leader", 2)]  # n1 never follows
    records += [event(10.0, "end")]
    verdict = liveness(records, bound=1.5)
    assert verdict.ok is False
    assert verdict.at == 4.5
    assert verdict.nodes == ("n1", "n2")


def test_liveness_holds_when_all_follow_one_leader_within_the_bound() -> None:
    records = [start(), *settled(1.0, "n3", 1), event(2.0, "crash", node="n3")]
    records += [
        event(3.0, "calm"),
        role(3.2, "n2", "leader", 2),
        role(3.3, "n1", "follower", 2, "n2"),
    ]
    records += [event(10.0, "end")]
    verdict = liveness(records, bound=1.5)
    assert verdict.ok is True
    assert "all follow n2 0.300 s after the faults" in verdict.detail


def test_liveness_needs_the_agreement_to_last() -> None:
    records = [start(), event(0.0, "calm"), *settled(1.0, "n3", 1), role(5.0, "n1", "candidate", 2)]
    records += [event(10.0, "end")]
    assert liveness(records, bound=1.5).ok is False


def test_liveness_is_not_checked_when_a_partition_never_heals() -> None:
    records = [start(), event(1.0, "partition", groups=[["n1"], ["n2", "n3"]]), event(1.0, "calm")]
    records += [event(10.0, "end")]
    assert liveness(records, bound=1.5).ok is None


def test_stability_catches_an_election_in_a_settled_cluster() -> None:
    records = [start(), *settled(1.0, "n3", 1), role(5.0, "n1", "candidate", 2)]
    verdict = stability(records, grace=0.2)
    assert verdict.ok is False
    assert (verdict.at, verdict.nodes) == (5.0, ("n1", "n3"))


def test_stability_allows_elections_after_a_leader_fault_and_during_a_partition() -> None:
    records = [start(), *settled(1.0, "n3", 1), event(2.0, "pause", node="n3")]
    records += [event(2.45, "resume", node="n3"), role(2.5, "n1", "candidate", 2)]  # too soon
    records += [*settled(3.0, "n3", 3), event(4.0, "partition", groups=[["n1"], ["n2", "n3"]])]
    records += [role(4.6, "n1", "candidate", 4)]
    assert stability(records, grace=0.2).ok is True


def test_the_liveness_bound_adds_up_the_timeouts() -> None:
    config = ElectionConfig(
        heartbeat_interval=0.1, leader_timeout=0.5, answer_timeout=0.2, victory_timeout=0.5
    )
    assert config.timings().liveness_bound == pytest.approx(0.5 * 1.2 + 0.2 + 0.5 + 0.1)


def test_the_budget_counts_messages_while_electing_and_while_settled() -> None:
    send = {"event": "send"}
    records = [start(), {"t": 0.5, **send}, role(0.5, "n3", "candidate", 1), {"t": 0.6, **send}]
    records += [*settled(1.0, "n3", 1), {"t": 1.5, **send}, {"t": 2.0, **send}, event(3.0, "end")]
    spent = budget(records)
    assert (spent.elections, spent.election_messages, spent.settled_messages) == (1, 2, 2)
    assert spent.settled_seconds == pytest.approx(2.0)


# -- the checkers that count to a majority -------------------------------------------------

FIVE = ["n1", "n2", "n3", "n4", "n5"]


def start5() -> dict:
    return {"t": 0.0, "event": "start", "nodes": FIVE}


def agreed(t: float, leader: str, term: int, nodes: list[str]) -> list[dict]:
    return [role(t, n, "leader" if n == leader else "follower", term, leader) for n in nodes]


def test_a_leader_elected_on_the_minority_side_is_reported() -> None:
    split = event(1.0, "partition", groups=[["n1", "n2"], ["n3", "n4", "n5"]])
    records = [start5(), *agreed(0.5, "n5", 1, FIVE), split, role(1.8, "n2", "leader", 2)]
    verdict = minority_leader(records)
    assert (verdict.ok, verdict.at, verdict.nodes) == (False, 1.8, ("n1", "n2"))
    records[-1] = role(1.8, "n3", "leader", 2)
    assert minority_leader(records).ok is True


def test_a_leader_may_overlap_a_stale_one_only_within_the_bound() -> None:
    split = event(1.0, "partition", groups=[["n4", "n5"], ["n1", "n2", "n3"]])
    records = [start5(), *agreed(0.5, "n5", 1, FIVE), split, role(1.6, "n2", "leader", 2)]
    records += [role(1.9, "n5", "follower", 1), event(3.0, "end")]
    assert single_leader(records).ok is False  # any overlap, with no bound
    assert single_leader(records, bound=0.5).ok is True  # 0.3 s, within 0.5 s
    assert single_leader(records, bound=0.2).ok is False
    assert longest_overlap(records) == pytest.approx(0.3)


def test_a_connected_majority_without_a_leader_breaks_majority_liveness() -> None:
    split = event(1.0, "partition", groups=[["n4", "n5"], ["n1", "n2", "n3"]])
    records = [start5(), *agreed(0.5, "n5", 1, FIVE), split, role(1.5, "n1", "candidate", 2)]
    records += [event(5.0, "end")]
    verdict = majority_liveness(records, bound=3.0)
    assert (verdict.ok, verdict.at, verdict.nodes) == (False, 4.0, ("n1", "n2", "n3"))
    records[-1:] = [*agreed(3.5, "n1", 2, ["n1", "n2", "n3"]), event(5.0, "end")]
    assert majority_liveness(records, bound=3.0).ok is True


def test_a_node_back_from_a_partition_that_raises_the_majoritys_term_is_a_disruption() -> None:
    split = event(1.0, "partition", groups=[["n5"], ["n1", "n2", "n3", "n4"]])
    records = [start5(), *agreed(0.5, "n4", 1, FIVE), split, role(1.6, "n5", "candidate", 7)]
    records += [event(3.0, "heal"), role(3.01, "n4", "follower", 7), event(5.0, "end")]
    verdict = disruptions(records, window=3.0)
    assert (verdict.ok, verdict.at, verdict.nodes) == (False, 3.01, ("n4",))
    records[-2] = role(3.01, "n5", "follower", 1, "n4")  # it just follows: no disruption
    assert disruptions(records, window=3.0).ok is True
