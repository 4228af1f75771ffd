"""Hundreds of seeded runs of the real Bully core: what it keeps, and what it does not.

Each property is checked over the same 500 seeds with crash and pause faults (the
faults Bully is built for), and over runs with partitions (which it is not). A
failure names the seeds: replay one with ``ddb simulate --seed SEED --duration 30
--nemesis crash,pause --svg out.svg``.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from stages.v2_1_election.bully import ElectionConfig
from workbench.sim.checkers import check
from workbench.sim.figures import SCENARIOS
from workbench.sim.nemesis import node_names, parse_scenario
from workbench.sim.simulator import SimConfig, simulate

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

SEEDS = range(1, 501)
CRASH_AND_PAUSE = (("crash", 0.1), ("pause", 0.1))


def trial_results(nemesis: tuple[tuple[str, float], ...], seeds: range) -> dict[str, list]:
    """Property -> the seeds that violated it, and how (``ok is None``: not checked)."""
    found: dict[str, list] = defaultdict(list)
    for seed in seeds:
        records = simulate(SimConfig(seed=seed, duration=30, nemesis=nemesis)).records
        for verdict in check(records, ElectionConfig().timings()):
            if verdict.ok is not True:
                found[verdict.name].append((seed, verdict.ok, verdict.detail))
    return found


@pytest.fixture(scope="module")
def crash_and_pause() -> dict[str, list]:
    return trial_results(CRASH_AND_PAUSE, SEEDS)


def test_no_two_leaders_ever_share_a_term_under_crashes_and_pauses(crash_and_pause) -> None:
    assert crash_and_pause["election safety"] == []


def test_the_cluster_always_settles_once_crashes_and_pauses_stop(crash_and_pause) -> None:
    assert crash_and_pause["liveness"] == []  # every run checked, every run settled


def test_no_election_starts_while_the_cluster_is_settled(crash_and_pause) -> None:
    # It used to: a stale Election deposed a live leader (docs/simulation.md tells the story).
    assert crash_and_pause["stability"] == []


def test_crashes_and_pauses_never_leave_two_leaders_acting_at_once(crash_and_pause) -> None:
    assert crash_and_pause["single leader"] == []


def test_a_partition_splits_the_brain_in_the_figure_scenario() -> None:
    text = (SCENARIOS / "split-brain.txt").read_text(encoding="utf-8")
    faults = tuple(parse_scenario(text, node_names(5)))
    records = simulate(SimConfig(seed=1, duration=5, scenario=faults)).records
    verdicts = {v.name: v for v in check(records, ElectionConfig().timings())}
    split = verdicts["single leader"]
    assert split.ok is False
    assert set(split.nodes) == {"n2", "n5"}  # a leader on each side
    assert 1.5 < split.at < 3.5  # while the partition lasts
    assert verdicts["liveness"].ok is True  # and one leader again once it heals


def test_random_partitions_split_the_brain_in_most_runs() -> None:
    found = trial_results((("partition", 0.1),), range(1, 101))
    split = [seed for seed, ok, _ in found["single leader"] if ok is False]
    assert len(split) >= 50, f"only {len(split)} of 100 runs had two leaders at once"
    assert found["liveness"] == []  # partitions heal, and then the cluster settles
