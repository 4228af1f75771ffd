"""The seams v2.1 offers the data stages, each used as a later stage would use it.

A log stage (v3.0) subclasses the majority-vote core and overrides its hooks, adds
message types and fields in its own module, and adds its own entry to the simulator
with a checker of its own; none of it edits v2.1. Pure core and simulator: no event loop.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import pytest

from stages.v2_1_election.algorithms import quorum_settings
from stages.v2_1_election.bully import BullyElector, ElectionConfig
from stages.v2_1_election.core import Algorithm, HardState, Ready, Role, Send, Timings
from stages.v2_1_election.messages import (
    Check,
    Heartbeat,
    HeartbeatAck,
    Message,
    RequestVote,
    Vote,
    list_of,
    message_from_json,
    object_of,
    whole_number,
)
from stages.v2_1_election.quorum import QuorumConfig, QuorumElector
from stages.v2_registry.models import InvalidMessage, check_name
from workbench.sim.algorithms import SIM_ALGORITHMS, SimAlgorithm, register, sim_algorithm
from workbench.sim.checkers import check, election_checks
from workbench.sim.replay import Verdict
from workbench.sim.simulator import SimConfig, simulate
from workbench.sim.trace import Record

FIVE = ("n1", "n2", "n3", "n4", "n5")
CONFIG = QuorumConfig(voters=FIVE)


# -- what a log stage would define, in its own module --------------------------------


@dataclass(frozen=True)
class LogRequestVote(RequestVote):
    """A RequestVote that says how long the candidate's log is (Raft's last log index)."""

    last_index: int = 0


ENTRY = object_of({"term": whole_number("term"), "key": check_name})


@dataclass(frozen=True)
class AppendEntries(Heartbeat):
    """The leader's heartbeat, carrying entries: what a log's leader sends instead."""

    kind: ClassVar[str] = "append_entries"
    checks: ClassVar[Mapping[str, Check]] = {"entries": list_of(ENTRY, at_most=4)}
    entries: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class AppendAck(HeartbeatAck):
    """A follower's answer to AppendEntries: how much of the log it holds."""

    kind: ClassVar[str] = "append_ack"
    match: int = 0


LOG_MESSAGES: tuple[type[Message], ...] = (AppendEntries, AppendAck, LogRequestVote, Vote)
LOGS = {"n1": 5, "n2": 5, "n3": 5}  # n4 and n5 hold nothing: a majority has the longer log


class LogElector(QuorumElector):
    """Majority vote with a (pretend) log, through the hooks only."""

    messages = LOG_MESSAGES

    def __init__(
        self,
        name: str,
        config: QuorumConfig,
        rng: random.Random,
        now: float,
        restored: HardState | None = None,
    ) -> None:
        super().__init__(name, config, rng, now, restored)
        self.last_index = LOGS.get(name, 0)
        self.matched: dict[str, int] = {}

    def request_vote(self, term: int, pre_vote: bool) -> RequestVote:
        return LogRequestVote(self.name, term, pre_vote=pre_vote, last_index=self.last_index)

    def log_is_up_to_date(self, message: RequestVote) -> bool:
        return isinstance(message, LogRequestVote) and message.last_index >= self.last_index

    def heartbeat_to(self, peer: str) -> Heartbeat:
        entry = {"term": self.term, "key": f"for-{peer}"}
        return AppendEntries(self.name, self.term, entries=(entry,))

    def heartbeat_reply(self, message: Heartbeat, now: float) -> Message:
        held = len(message.entries) if isinstance(message, AppendEntries) else 0
        return AppendAck(self.name, self.term, match=held)

    def on_heartbeat_ack(self, message: HeartbeatAck, now: float) -> list[Send]:
        if isinstance(message, AppendAck):
            self.matched[message.sender] = message.match
        return super().on_heartbeat_ack(message, now)


def peers_of(elector: QuorumElector) -> QuorumElector:
    elector.set_peers(FIVE, 0.0)
    return elector


def campaign(elector: QuorumElector) -> tuple[float, list[Send]]:
    """Time out and win the pre-vote (from n2 and n3); the real requests it sends."""
    now = elector.deadline
    elector.tick(now)
    sends: list[Send] = []
    for voter in ("n2", "n3"):
        sends += elector.receive(Vote(voter, elector.term + 1, granted=True, pre_vote=True), now)
    assert elector.role is Role.CANDIDATE
    return now, sends


# -- the hooks of majority vote -----------------------------------------------------------


def test_a_voter_refuses_a_candidate_whose_log_is_behind_through_the_up_to_date_hook() -> None:
    n1 = peers_of(LogElector("n1", CONFIG, random.Random(0), 0.0))
    n4 = peers_of(LogElector("n4", CONFIG, random.Random(1), 0.0))
    for asking in (n4.request_vote(1, pre_vote=True), n4.request_vote(1, pre_vote=False)):
        [answer] = n1.receive(asking, 10.0)  # n1 has heard no leader: only the log says no
        assert isinstance(answer.message, Vote) and not answer.message.granted, asking
    assert n1.voted_for is None and n1.ready([]).hard_state == HardState(1, None)
    [answer] = peers_of(LogElector("n5", CONFIG, random.Random(2), 0.0)).receive(asking, 10.0)
    assert isinstance(answer.message, Vote) and answer.message.granted  # as short: up to date


def test_v2_1s_own_core_grants_the_same_vote_the_log_refuses() -> None:
    n1 = peers_of(QuorumElector("n1", CONFIG, random.Random(0), 0.0))
    [answer] = n1.receive(LogRequestVote("n4", 1, last_index=0), 10.0)
    assert isinstance(answer.message, Vote) and answer.message.granted  # no log: always yes


def test_a_candidate_asks_with_what_the_request_vote_hook_makes() -> None:
    n1 = peers_of(LogElector("n1", CONFIG, random.Random(0), 0.0))
    _, sends = campaign(n1)
    asks = {send.to: send.message for send in sends}
    assert sorted(asks) == ["n2", "n3", "n4", "n5"]
    assert set(asks.values()) == {LogRequestVote("n1", 1, last_index=5)}


def test_the_leaders_heartbeat_the_followers_answer_and_the_acks_go_through_the_hooks() -> None:
    n1 = peers_of(LogElector("n1", CONFIG, random.Random(0), 0.0))
    now, _ = campaign(n1)
    for voter in ("n2", "n3"):
        beats = n1.receive(Vote(voter, 1, granted=True), now)
    assert n1.role is Role.LEADER
    assert beats[0] == Send("n2", AppendEntries("n1", 1, entries=({"term": 1, "key": "for-n2"},)))
    n2 = peers_of(LogElector("n2", CONFIG, random.Random(3), 0.0))
    [answer] = n2.receive(beats[0].message, now)
    assert (n2.role, n2.leader, answer) == (Role.FOLLOWER, "n1", Send("n1", AppendAck("n2", 1, 1)))
    assert n1.receive(answer.message, now + 0.05) == []
    assert n1.matched == {"n2": 1} and n1.acked_at["n2"] == now + 0.05  # CheckQuorum counts it


def test_bully_hands_out_no_hard_state_and_majority_vote_each_change_once() -> None:
    bully = BullyElector("n1", ElectionConfig(), random.Random(0), 0.0)
    beat = [Send("n2", Heartbeat("n1", 0))]
    assert bully.ready(beat) == Ready(None, beat)
    n1 = peers_of(QuorumElector("n1", CONFIG, random.Random(0), 0.0, HardState(3, "n2")))
    assert n1.ready([]) == Ready(None, [])  # what it was built from is kept already
    n1.receive(Heartbeat("n4", 7), 1.0)
    assert n1.ready([]).hard_state == HardState(7, None)
    assert n1.ready([]).hard_state is None


# -- messages: parsed by the algorithm's own types ------------------------------------------


def test_a_later_stages_message_types_and_fields_parse_by_its_own_message_set() -> None:
    ask = {"type": "request_vote", "sender": "n1", "term": 2, "pre_vote": False, "last_index": 7}
    assert message_from_json(ask, LOG_MESSAGES) == LogRequestVote("n1", 2, last_index=7)
    entries = [{"term": 2, "key": "a"}]
    beat = {"type": "append_entries", "sender": "n1", "term": 2, "entries": entries}
    parsed = message_from_json(beat, LOG_MESSAGES)
    assert parsed == AppendEntries("n1", 2, entries=({"term": 2, "key": "a"},))
    assert message_from_json(parsed.to_json(), LOG_MESSAGES) == parsed  # round trip
    with pytest.raises(InvalidMessage, match="'type' must be one of heartbeat, heartbeat_ack"):
        message_from_json(beat, QuorumElector.messages)  # v2.1 knows nothing of it
    with pytest.raises(InvalidMessage, match="unknown field\\(s\\) for request_vote: last_index"):
        message_from_json(ask, QuorumElector.messages)


@pytest.mark.parametrize(
    ("entries", "complaint"),
    [
        ([{"term": 1, "key": "k"}] * 5, "append_entries.entries: at most 4 items, not 5"),
        ({"term": 1}, "append_entries.entries: expected a list"),
        ([{"term": 1}], "item 0: expected the keys term, key"),
        ([{"term": -1, "key": "k"}], "item 0: 'term' must be a whole number from 0 to 2"),
        ([{"term": 1, "key": "k"}, 3], "item 1: expected a JSON object"),
    ],
)
def test_a_later_stages_fields_are_bounded_and_say_what_is_wrong(
    entries: object, complaint: str
) -> None:
    data = {"type": "append_entries", "sender": "n1", "term": 2, "entries": entries}
    with pytest.raises(InvalidMessage, match=complaint):
        message_from_json(data, LOG_MESSAGES)


def test_an_int_field_of_a_later_stage_is_named_in_its_error() -> None:
    ask = {"type": "request_vote", "sender": "n1", "term": 2, "last_index": 2**64}
    with pytest.raises(InvalidMessage, match=r"request_vote\.last_index: 'last_index' must be"):
        message_from_json(ask, LOG_MESSAGES)


def test_a_field_without_a_check_is_refused_when_the_class_is_defined() -> None:
    with pytest.raises(AssertionError, match=r"Unchecked\.values: no check for list"):

        @dataclass(frozen=True)
        class Unchecked(Message):
            kind: ClassVar[str] = "unchecked"
            values: list[int]


# -- the simulator: an algorithm's own entry, checkers and claims -------------------------


def up_to_date_leaders(records: Sequence[Record]) -> Verdict:
    """The log stage's own checker: every leader holds the longer log."""
    behind = [r for r in records if r["event"] == "role" and r["role"] == "leader"]
    behind = [r for r in behind if r["node"] not in LOGS]
    if behind:
        first = behind[0]
        detail = f"{first['node']} led term {first['term']} with a shorter log"
        return Verdict("up-to-date leaders", False, detail, first["t"], (first["node"],))
    return Verdict("up-to-date leaders", True, "every leader held the longer log")


def log_checks(records: Sequence[Record], timings: Timings) -> list[Verdict]:
    return [*election_checks(records, timings), up_to_date_leaders(records)]


@pytest.fixture
def with_a_log(monkeypatch: pytest.MonkeyPatch) -> SimAlgorithm:
    algorithm = Algorithm("with-a-log", "majority vote, a log", quorum_settings, LogElector, True)
    claims = {**SIM_ALGORITHMS["quorum"].claims, "up-to-date leaders": frozenset[str]()}
    entry = SimAlgorithm(algorithm, claims, checkers=log_checks)
    monkeypatch.setitem(SIM_ALGORITHMS, entry.name, entry)
    return entry


CRASHES = SimConfig(algorithm="quorum", duration=20, nemesis=(("crash", 0.3), ("pause", 0.2)))


def leaders(config: SimConfig) -> set[str]:
    records = simulate(config).records
    return {r["node"] for r in records if r["event"] == "role" and r["role"] == "leader"}


def test_in_the_simulator_only_nodes_with_the_longer_log_ever_lead(with_a_log) -> None:
    config = replace(CRASHES, algorithm=with_a_log.name, election=CRASHES.election)
    led: set[str] = set()
    for seed in range(1, 31):
        records = simulate(replace(config, seed=seed)).records
        verdicts = {v.name: v for v in check(records, config.election.timings())}
        assert verdicts["up-to-date leaders"].ok, (seed, verdicts["up-to-date leaders"])
        assert verdicts["election safety"].ok, seed
        led |= {r["node"] for r in records if r["event"] == "role" and r["role"] == "leader"}
    assert led and led <= set(LOGS)
    without = set().union(*(leaders(replace(CRASHES, seed=seed)) for seed in range(1, 31)))
    assert without - set(LOGS), "v2.1's majority vote, the same seeds: n4 or n5 leads too"


def test_the_simulator_holds_a_run_to_the_claims_of_the_algorithms_own_entry(with_a_log) -> None:
    verdict = Verdict("up-to-date leaders", False, "n4 led")
    assert with_a_log.claimed(verdict, {"crash", "partition", "lost"})
    assert not SIM_ALGORITHMS["quorum"].claimed(verdict, set())  # quorum never promised it
    assert sim_algorithm("with-a-log") is with_a_log


def test_a_later_stage_registers_its_entry_and_may_not_replace_another() -> None:
    quorum = SIM_ALGORITHMS["quorum"]
    with pytest.raises(ValueError, match="already has an algorithm called 'quorum'"):
        register(replace(quorum, claims={}))
    renamed = SimAlgorithm(replace(quorum.algorithm, name="quorum-again"), quorum.claims)
    try:
        register(renamed)
        assert sim_algorithm("quorum-again") is renamed
    finally:
        del SIM_ALGORITHMS["quorum-again"]
    with pytest.raises(KeyError, match="knows no algorithm 'quorum-again'; known: bully, quorum"):
        sim_algorithm("quorum-again")
