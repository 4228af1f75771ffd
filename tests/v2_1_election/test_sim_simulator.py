"""The simulator's world: virtual time, the network, faults and membership, as promised.

Most tests run the real Bully core on a short scenario and read the trace. Two plug
in a recording core instead, which is also how a later algorithm plugs in.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import replace
from itertools import pairwise
from typing import ClassVar

import pytest

from stages.v2_1_election.algorithms import bully_settings
from stages.v2_1_election.bully import Role, Send
from stages.v2_1_election.core import Algorithm, Ready
from stages.v2_1_election.messages import Heartbeat, Message
from workbench.sim.algorithms import SIM_ALGORITHMS, SimAlgorithm
from workbench.sim.nemesis import (
    Fault,
    ScenarioError,
    check_faults,
    node_names,
    parse_scenario,
    random_faults,
)
from workbench.sim.network import NetworkConfig
from workbench.sim.simulator import SimConfig, simulate

pytestmark = pytest.mark.timeout(30)

NODES = node_names(5)


def run(scenario: str, duration: float = 8.0, **kwargs: object) -> list[dict]:
    faults = tuple(parse_scenario(scenario, NODES))
    return simulate(SimConfig(duration=duration, scenario=faults, **kwargs)).records  # type: ignore[arg-type]


def events(records: list[dict], name: str, **match: object) -> list[dict]:
    return [
        r for r in records if r["event"] == name and all(r.get(k) == v for k, v in match.items())
    ]


# -- determinism and speed -------------------------------------------------------------


def test_the_same_config_gives_a_byte_identical_trace_and_another_seed_does_not() -> None:
    config = SimConfig(
        seed=11,
        duration=20,
        nemesis=(("crash", 0.2), ("partition", 0.1), ("pause", 0.2)),
        network=NetworkConfig(drop=0.02, duplicate=0.02),
    )
    first, second = simulate(config).to_jsonl(), simulate(config).to_jsonl()
    assert first.encode() == second.encode()
    other = replace(config, seed=12)
    assert simulate(other).to_jsonl() != first


def test_sixty_virtual_seconds_with_faults_take_well_under_a_second() -> None:
    config = SimConfig(seed=3, duration=60, nemesis=(("crash", 0.1), ("pause", 0.1)))
    started = time.perf_counter()
    simulate(config)
    assert time.perf_counter() - started < 1.0


SIM_MODULES = [
    "algorithms",
    "network",
    "nemesis",
    "simulator",
    "checkers",
    "partitions",
    "replay",
    "trace",
    "svg",
    "extras",
    "trials",
]


@pytest.mark.parametrize("module", [*SIM_MODULES, "report", "figures", "cli"])
def test_the_simulator_needs_no_event_loop_and_no_http(module: str) -> None:
    check = (
        f"import sys, workbench.sim.{module}; "
        "print(','.join(m for m in ('asyncio', 'aiohttp') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} pulls in {result.stdout.strip()}"


# -- faults --------------------------------------------------------------------------------


def test_a_restarted_node_is_a_fresh_core_that_asks_its_peers_who_leads() -> None:
    records = run("2.0 crash n3\n3.0 restart n3")
    assert events(records, "role", node="n3", t=3.0)[0]["term"] == 0
    joins = [r for r in events(records, "send", **{"from": "n3"}) if r["t"] == 3.0]
    assert sorted(r["to"] for r in joins) == ["n1", "n2", "n4", "n5"]
    assert {r["msg"]["type"] for r in joins} == {"join"}
    last = events(records, "role", node="n3")[-1]
    assert (last["role"], last["leader"]) == ("follower", "n5")


def test_messages_to_a_crashed_node_are_lost() -> None:
    records = run("2.0 crash n2\n3.0 restart n2")
    lost = events(records, "drop", to="n2", reason="crashed")
    assert lost and all(2.0 <= r["t"] <= 3.0 for r in lost)
    assert not [r for r in events(records, "deliver", to="n2") if 2.0 <= r["t"] < 3.0]


def test_the_registry_forgets_a_crashed_node_after_the_ttl_and_relists_it_on_restart() -> None:
    records = run("1.0 crash n5\n8.0 restart n5", duration=10)
    listed = [(r["t"], r["nodes"]) for r in events(records, "members")]
    assert listed == [(0.0, NODES), (6.0, ["n1", "n2", "n3", "n4"]), (8.0, NODES)]


def test_peers_outlive_a_registry_restart_so_it_changes_no_leader() -> None:
    for algorithm in ("bully", "quorum"):
        scenario = "".join(f"{t} registry-restart\n" for t in (2.0, 4.5, 7.0, 7.3))
        records = run(scenario, duration=12, algorithm=algorithm)
        assert len(events(records, "registry-restart")) == 4
        assert len(events(records, "role", role="leader")) == 1, algorithm  # the first, only
        emptied = [r for r in events(records, "members") if len(r["nodes"]) < 5]
        assert emptied and all(r["t"] >= 2.0 for r in emptied)  # nodes read it half empty


def test_random_registry_restarts_change_no_leader_in_either_algorithm() -> None:
    for algorithm in ("bully", "quorum"):
        for seed in range(1, 11):
            config = SimConfig(
                algorithm=algorithm, seed=seed, duration=30, nemesis=(("registry-restart", 0.3),)
            )
            records = simulate(config).records
            assert len(events(records, "registry-restart")) > 0
            leaders = events(records, "role", role="leader")
            assert len(leaders) == 1, f"{algorithm} seed {seed}: {leaders}"


def test_a_partition_drops_what_crosses_it_and_nothing_else() -> None:
    records = run("2.0 partition n1,n2 | n3,n4,n5\n4.0 heal")
    cut = events(records, "drop", reason="partition")
    assert cut and all(2.0 <= r["t"] <= 4.0 for r in cut)
    sides = {"n1": 0, "n2": 0, "n3": 1, "n4": 1, "n5": 1}
    assert all(sides[r["from"]] != sides[r["to"]] for r in cut)


def test_loss_and_duplication_happen_only_until_the_faults_stop() -> None:
    config = SimConfig(seed=5, duration=15, network=NetworkConfig(drop=0.1, duplicate=0.1))
    records = simulate(config).records
    assert config.calm_at == 10.0
    lost, doubled = events(records, "drop", reason="lost"), events(records, "duplicate")
    assert lost and doubled
    assert max(r["t"] for r in lost + doubled) < 10.0 + 0.011  # the last ones still in flight


# -- pause and resume, with a recording core ---------------------------------------------


class Recorder:
    """A stand-in core that writes down every call: a leader that beats every 0.05 s."""

    calls: ClassVar[list[tuple[str, str, float, str]]] = []

    def __init__(self, name: str, rng: random.Random, now: float) -> None:
        self.name, self.role, self.leader, self.term = name, Role.LEADER, name, 0
        self.deadline, self.peers = now + 0.05, frozenset[str]()

    def tick(self, now: float) -> list[Send]:
        self.calls.append((self.name, "tick", now, ""))
        if now < self.deadline:
            return []
        self.deadline = now + 0.05
        return [Send(peer, Heartbeat(self.name, 0)) for peer in sorted(self.peers)]

    def receive(self, message: Message, now: float) -> list[Send]:
        self.calls.append((self.name, "receive", now, message.sender))
        return []

    def set_peers(self, names: Iterable[str], now: float) -> list[Send]:
        self.peers = frozenset(names) - {self.name}
        self.calls.append((self.name, "set_peers", now, ",".join(sorted(self.peers))))
        return []

    def resumed(self, now: float) -> list[Send]:
        self.calls.append((self.name, "resumed", now, ""))
        return []

    def ready(self, messages: list[Send]) -> Ready:
        return Ready(None, messages)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, float, str]]:
    def new_recorder(
        name: str, settings: object, rng: random.Random, now: float, _: None
    ) -> Recorder:
        return Recorder(name, rng, now)

    recorder = Algorithm("recorder", "records every call", bully_settings, new_recorder)
    monkeypatch.setitem(SIM_ALGORITHMS, "recorder", SimAlgorithm(recorder, claims={}))
    Recorder.calls = []
    return Recorder.calls


def test_a_resumed_node_is_told_then_ticks_then_reads_its_queue_in_order(recorder: list) -> None:
    faults = tuple(parse_scenario("1.0 pause n2\n1.5 resume n2", ["n1", "n2", "n3"]))
    records = simulate(
        SimConfig(nodes=3, duration=2.0, algorithm="recorder", scenario=faults)
    ).records
    held = [r["id"] for r in events(records, "hold", to="n2")]
    delivered = [r["id"] for r in events(records, "deliver", to="n2") if r["t"] == 1.5]
    assert held and delivered == held  # all of them, in the order they arrived
    n2 = [(verb, at) for name, verb, at, _ in recorder if name == "n2"]
    assert not [at for verb, at in n2 if 1.0 < at < 1.5]  # no tick, no message while paused
    after = [verb for verb, at in n2 if at >= 1.5]
    # Like a real process after SIGCONT: the loop notices the stall, the overdue tick
    # runs, and only then are the requests that waited read, in order.
    assert after[:2] == ["resumed", "tick"]
    assert after[2 : 2 + len(held)] == ["receive"] * len(held)
    assert "set_peers" not in after  # then it reads the registry: nothing changed, nothing said


def test_ticks_fall_on_the_real_nodes_grid_of_a_tenth_of_a_heartbeat(recorder: list) -> None:
    simulate(SimConfig(nodes=2, duration=3.0, algorithm="recorder"))
    ticks = [at for name, verb, at, _ in recorder if name == "n1" and verb == "tick"]
    gaps = [later - earlier for earlier, later in pairwise(ticks)]
    assert len(ticks) > 50
    assert all(abs(gap / 0.01 - round(gap / 0.01)) < 1e-6 for gap in gaps)


# -- scenarios and random schedules ------------------------------------------------------


def test_a_scenario_reads_every_action_and_round_trips_through_str() -> None:
    text = """
    # comments and blank lines are fine
    1 crash n3
    2.5 restart n3      # so are comments after a fault
    3 pause n2
    4 resume n2
    5 partition n1,n2 | n3,n4,n5
    6 heal
    """
    faults = parse_scenario(text, NODES)
    assert faults[0] == Fault(1.0, "crash", "n3")
    assert faults[4].groups == (("n1", "n2"), ("n3", "n4", "n5"))
    assert parse_scenario("\n".join(map(str, faults)), NODES) == faults


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("1 crash n3\nsoon restart n3", "line 2: 'soon' is not a time"),
        ("1 explode n3", "line 1: unknown action 'explode'"),
        ("1 crash n9", "line 1: no node n9"),
        ("1 restart n2", "line 1: n2 has not crashed"),
        ("1 crash n2\n2 crash n2", "line 2: n2 has already crashed"),
        ("1 resume n2", "line 1: n2 is not paused"),
        ("2 crash n2\n1 restart n2", "line 2: time 1 is before the previous line's"),
        ("1 partition n1,n2 | n3", "line 1: every node must be on one side; n4, n5 is on none"),
        ("1 partition n1,n2,n3,n4,n5", "line 1: a partition needs two or more groups"),
        ("1 heal", "line 1: there is no partition to heal"),
        ("1 crash", "line 1: crash takes one node name"),
    ],
)
def test_a_bad_scenario_line_is_refused_with_its_number(text: str, complaint: str) -> None:
    with pytest.raises(ScenarioError, match=complaint):
        parse_scenario(text, NODES)


@pytest.mark.parametrize("seed", range(40))
def test_random_faults_end_before_calm_and_every_fault_is_undone(seed: int) -> None:
    kinds = {"crash": 0.3, "pause": 0.3, "partition": 0.2}
    faults = random_faults(NODES, kinds, until=20.0, rng=random.Random(seed))
    check_faults(faults, NODES)  # a valid sequence
    assert all(f.at <= 20.0 for f in faults)
    count = {a: sum(f.action == a for f in faults) for a in ("crash", "pause", "partition")}
    assert count["crash"] == sum(f.action == "restart" for f in faults)
    assert count["pause"] == sum(f.action == "resume" for f in faults)
    assert count["partition"] == sum(f.action == "heal" for f in faults)
