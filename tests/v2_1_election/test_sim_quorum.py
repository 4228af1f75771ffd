"""Seeded runs of the real majority-vote core: what it keeps that Bully does not.

The default suite runs 150 seeds with crashes, pauses, partitions and registry
restarts (about fifteen seconds); the acceptance run is 1,000 seeds, from the command
line (about a minute and a half): ``ddb simulate --algorithm quorum --nemesis
crash,pause,partition,registry-restart --trials 1000``, and the same with ``--drop``.
A failure names the seeds: replay one with ``ddb simulate --algorithm quorum --seed
SEED --nemesis crash,pause,partition --timeline out.txt``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest

from stages.v2_1_election.algorithms import ALGORITHMS
from workbench.sim.checkers import check, longest_overlap
from workbench.sim.figures import SCENARIOS
from workbench.sim.nemesis import node_names, parse_scenario
from workbench.sim.network import NetworkConfig
from workbench.sim.simulator import SimConfig, simulate
from workbench.sim.trace import timeline

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]

EVERY_FAULT = (("crash", 0.1), ("partition", 0.05), ("pause", 0.1), ("registry-restart", 0.05))
QUORUM = SimConfig(algorithm="quorum", duration=30, nemesis=EVERY_FAULT)


def trials(config: SimConfig, seeds: range) -> tuple[dict[str, list[int]], float]:
    """Property -> the seeds that violated it; and the longest overlap of two leaders."""
    found: dict[str, list[int]] = defaultdict(list)
    longest = 0.0
    timings = config.election.timings()
    for seed in seeds:
        records = simulate(replace(config, seed=seed)).records
        longest = max(longest, longest_overlap(records))
        for verdict in check(records, timings):
            if verdict.ok is False:
                found[verdict.name].append(seed)
    return found, longest


@pytest.fixture(scope="module")
def every_fault() -> tuple[dict[str, list[int]], float]:
    return trials(QUORUM, range(1, 151))


def test_no_two_leaders_ever_share_a_term(every_fault) -> None:
    assert every_fault[0]["election safety"] == []


def test_no_leader_is_elected_on_the_minority_side_of_a_partition(every_fault) -> None:
    assert every_fault[0]["leader in a minority"] == []


def test_a_leader_cut_off_in_a_minority_steps_down_within_the_bound(every_fault) -> None:
    found, longest = every_fault
    assert found["single leader"] == []
    assert longest <= QUORUM.election.timings().stale_leader_bound


def test_a_connected_majority_always_has_a_leader_and_settles_after_the_faults(every_fault):
    assert every_fault[0]["majority liveness"] == []
    assert every_fault[0]["liveness"] == []


def test_a_node_rejoining_after_a_partition_never_disrupts_a_settled_majority(every_fault):
    assert every_fault[0]["disruptions"] == []


def test_lost_and_doubled_messages_never_give_a_term_two_leaders() -> None:  # drops too
    lossy = replace(QUORUM, network=NetworkConfig(drop=0.05, duplicate=0.05))
    found, _ = trials(lossy, range(1, 31))
    assert found["election safety"] == []
    assert found["leader in a minority"] == []


def test_without_pre_vote_rejoining_nodes_depose_healthy_leaders() -> None:
    settings = ALGORITHMS["quorum"].settings(node_names(5), pre_vote=False)
    found, _ = trials(replace(QUORUM, election=settings), range(1, 31))
    assert len(found["disruptions"]) >= 5  # the lesson PreVote teaches
    assert found["election safety"] == []  # disruptive, but still safe


def test_without_check_quorum_a_cut_off_leader_leads_until_the_partition_heals() -> None:
    text = (SCENARIOS / "stale-leader.txt").read_text(encoding="utf-8")
    faults = tuple(parse_scenario(text, node_names(5)))
    config = SimConfig(algorithm="quorum", duration=5, scenario=faults)
    assert longest_overlap(simulate(config).records) == 0.0  # n5 stepped down in time
    settings = ALGORITHMS["quorum"].settings(node_names(5), check_quorum=False)
    careless = replace(config, election=settings)
    assert longest_overlap(simulate(careless).records) > 1.0  # n5 led its minority till 3.5 s


def test_a_restart_that_forgets_its_vote_lets_a_term_have_two_leaders() -> None:
    text = (SCENARIOS / "double-vote.txt").read_text(encoding="utf-8")
    faults = tuple(parse_scenario(text, node_names(5)))
    config = SimConfig(algorithm="quorum", duration=4, scenario=faults)
    verdicts = {v.name: v for v in check(simulate(config).records, config.election.timings())}
    assert verdicts["election safety"].ok is True  # n3 remembered its vote for n1
    forgetful = replace(config, durable=False)
    records = simulate(forgetful).records
    verdicts = {v.name: v for v in check(records, config.election.timings())}
    assert verdicts["election safety"].ok is False
    assert set(verdicts["election safety"].nodes) == {"n1", "n4"}  # both led term 1


def test_bully_splits_the_brain_where_majority_vote_does_not() -> None:
    found, longest = trials(replace(QUORUM, algorithm="bully", election=None), range(1, 31))
    assert len(found["single leader"]) >= 10
    assert len(found["leader in a minority"]) >= 10
    assert longest > 1.0


GOLDEN = Path(__file__).parent / "golden" / "quorum-stale-leader.txt"


def test_the_stale_leader_story_is_told_as_the_golden_timeline_says() -> None:
    """A readable golden file: the cut-off leader steps down, the majority elects n2.

    After a deliberate change, rewrite it with ``ddb simulate --algorithm quorum --scenario
    workbench/sim/scenarios/stale-leader.txt --duration 5 --timeline
    tests/v2_1_election/golden/quorum-stale-leader.txt`` and read the diff.
    """
    text = (SCENARIOS / "stale-leader.txt").read_text(encoding="utf-8")
    faults = tuple(parse_scenario(text, node_names(5)))
    records = simulate(SimConfig(algorithm="quorum", duration=5, scenario=faults)).records
    assert timeline(records).splitlines() == GOLDEN.read_text(encoding="utf-8").splitlines()
