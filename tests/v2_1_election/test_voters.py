"""A majority of named voters (the voters fix): the pure set, the core's rules for nodes
outside it, the regression it fixes, and the flags that name the voters.

Before the fix a majority-vote node counted a vote from *any* sender towards
``cluster_size // 2 + 1``: five nodes started with a cluster size of three could elect
two leaders in one term. The old count survives as a switch (``count_voters_only=False``,
``ddb simulate --count-any-sender``) so that the simulator can show it failing.
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from pathlib import Path

import pytest

from stages.v2_1_election.algorithms import ALGORITHMS
from stages.v2_1_election.core import Role, Send
from stages.v2_1_election.majority import (
    MajorityConfig,
    VotersError,
    numbered_voters,
    parse_voters,
)
from stages.v2_1_election.messages import Heartbeat, HeartbeatAck, RequestVote, Vote
from stages.v2_1_election.quorum import QuorumConfig, QuorumElector
from workbench.harness import run_ddb
from workbench.sim.checkers import check
from workbench.sim.figures import SCENARIOS
from workbench.sim.nemesis import node_names, parse_scenario
from workbench.sim.simulator import SimConfig, simulate

THREE = ("n1", "n2", "n3")
CONFIG = QuorumConfig(voters=THREE)
PEERS = ["n1", "n2", "n3", "n4", "n5"]  # n4 and n5 run, but are not voters


def core(name: str, config: QuorumConfig = CONFIG) -> QuorumElector:
    elector = QuorumElector(name, config, random.Random(0), 0.0)
    elector.set_peers(PEERS, 0.0)
    return elector


# -- the pure set ------------------------------------------------------------------------


def test_a_quorum_is_a_majority_of_the_voters_names_and_nobody_else_counts() -> None:
    voters = MajorityConfig(frozenset(THREE))
    assert voters.quorum == 2
    assert voters.has_quorum({"n1", "n2"})
    assert not voters.has_quorum({"n1", "n4", "n5"})  # three names, one voter among them
    assert not voters.has_quorum({"n4", "n5", "n6"})  # "a majority of three" of strangers


def test_the_committed_index_is_the_highest_a_majority_of_voters_hold() -> None:
    voters = numbered_voters(5)
    assert voters.committed_index({"n1": 7, "n2": 5, "n3": 5, "n4": 2}) == 5  # n5: 0
    assert voters.committed_index({"n1": 9, "n9": 9, "n8": 9}) == 0  # non-voters count nothing


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "the list of voters is empty"),
        ("n1,,n2", "an empty name"),
        ("n1,n2,n1", "n1 is listed twice"),
        ("n1,n 2", "voter 'n 2'"),
    ],
)
def test_a_voter_list_that_cannot_be_a_cluster_is_refused(text: str, complaint: str) -> None:
    with pytest.raises(VotersError, match=complaint):
        parse_voters(text)


# -- the core: voters, and nodes outside the set -----------------------------------------


def test_a_candidate_counts_only_the_votes_of_voters() -> None:
    n1 = core("n1")
    now = n1.deadline
    n1.tick(now)
    for stranger in ("n4", "n5"):  # yes from two non-voters: still one voter of three
        n1.receive(Vote(stranger, 1, granted=True, pre_vote=True), now)
    assert n1.role is Role.PRE_CANDIDATE
    n1.receive(Vote("n2", 1, granted=True, pre_vote=True), now)
    assert n1.role is Role.CANDIDATE
    n1.receive(Vote("n4", 1, granted=True), now)
    assert n1.role is Role.CANDIDATE
    n1.receive(Vote("n3", 1, granted=True), now)
    assert n1.role is Role.LEADER


def test_a_voter_never_votes_for_a_non_voter_and_keeps_its_term(caplog) -> None:
    n1 = core("n1")
    for pre_vote in (True, False):
        reply = n1.receive(RequestVote("n4", 5, pre_vote=pre_vote), 0.1)
        assert reply == [Send("n4", Vote("n1", 0, granted=False, pre_vote=pre_vote))]
    assert (n1.term, n1.voted_for) == (0, None)
    assert caplog.text.count("n1 ignores a request_vote from n4: it is not a voter") == 1


def test_a_voter_ignores_a_heartbeat_from_a_non_voter() -> None:
    n1 = core("n1")
    assert n1.receive(Heartbeat("n4", 7), 0.1) == []
    assert (n1.role, n1.leader, n1.term) == (Role.FOLLOWER, None, 0)


def test_check_quorum_counts_only_the_acks_of_voters(caplog) -> None:
    n1 = core("n1")
    now = n1.deadline
    n1.tick(now)
    n1.receive(Vote("n2", 1, granted=True, pre_vote=True), now)
    n1.receive(Vote("n2", 1, granted=True), now)
    assert n1.role is Role.LEADER
    elected = now
    while n1.role is Role.LEADER and now < elected + 5.0:  # only n4 and n5 answer
        now = n1.deadline
        n1.tick(now)
        for stranger in ("n4", "n5"):
            n1.receive(HeartbeatAck(stranger, n1.term), now)
    assert n1.role is Role.FOLLOWER  # two non-voters' acks are not a majority of n1..n3
    n1.receive(Vote("n4", n1.term, granted=False), now)  # a learner's no to a vote request
    assert "ignores" not in caplog.text  # acks and refusals are what a non-voter sends
    assert now <= elected + CONFIG.election_timeout + CONFIG.heartbeat_interval + 1e-9


def test_a_non_voter_follows_the_leader_and_never_campaigns_or_votes(caplog) -> None:
    caplog.set_level(logging.INFO)
    n4 = core("n4")
    assert not n4.voter
    assert n4.receive(Heartbeat("n1", 1), 0.1) == [Send("n1", HeartbeatAck("n4", 1))]
    assert (n4.role, n4.leader, n4.term) == (Role.FOLLOWER, "n1", 1)
    reply = n4.receive(RequestVote("n2", 2), 0.7)  # n1 silent for T: it takes the new term
    assert reply == [Send("n2", Vote("n4", 2, granted=False))] and n4.voted_for is None
    n4.receive(Heartbeat("n2", 2), 0.7)
    now = 0.7
    for _ in range(20):  # seconds of silence: it forgets its leader, and only that
        now = n4.deadline
        assert n4.tick(now) == []
    assert (n4.role, n4.leader) == (Role.FOLLOWER, None)
    assert "n4 became pre-candidate" not in caplog.text and "candidate" not in caplog.text


# -- the regression: five nodes, three voters --------------------------------------------


def two_leaders_run(count_voters_only: bool) -> list[dict]:
    """The scenario of docs/figures/quorum-two-leaders.svg: n4 and n5 start beside the
    three voters, each believing itself a voter (a stray), as before the fix any fourth
    node started with the same --cluster-size did."""
    settings = ALGORITHMS["quorum"].settings(THREE, count_voters_only=count_voters_only)
    text = (SCENARIOS / "two-leaders.txt").read_text(encoding="utf-8")
    faults = parse_scenario(text, node_names(5), absent=["n4", "n5"])
    config = SimConfig(
        nodes=3, seed=49, duration=3.0, algorithm="quorum", election=settings,
        extras=("stray", "stray"), scenario=tuple(faults),
    )  # fmt: skip
    return simulate(config).records


def leaders_by_term(records: list[dict]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for record in records:
        if record["event"] == "role" and record["role"] == "leader":
            found.setdefault(record["term"], set()).add(record["node"])
    return found


def test_the_old_count_elects_two_leaders_in_one_term_with_five_nodes_and_three_voters():
    """The bug, reproduced: with the old rule this very run gives term 1 two leaders."""
    records = two_leaders_run(count_voters_only=False)
    assert leaders_by_term(records)[1] == {"n3", "n4"}
    safety = next(v for v in check(records, CONFIG.timings()) if v.name == "election safety")
    assert safety.ok is False and "term 1" in safety.detail


def test_a_majority_of_named_voters_gives_the_same_run_one_leader_a_voter():
    records = two_leaders_run(count_voters_only=True)
    assert leaders_by_term(records) == {1: {"n3"}}
    broken = [v.name for v in check(records, CONFIG.timings()) if v.ok is False]
    assert broken == []


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_extra_nodes_that_come_and_go_never_break_a_promise_of_majority_vote() -> None:
    """100 seeds of crashes, pauses, partitions and a learner and a stray joining and
    leaving; the acceptance run is ``ddb simulate --algorithm quorum --nemesis
    crash,pause,partition,extra-nodes --trials 1000``."""
    nemesis = (("crash", 0.1), ("extra-nodes", 0.2), ("partition", 0.05), ("pause", 0.1))
    config = SimConfig(algorithm="quorum", nemesis=nemesis, extras=("learner", "stray"))
    found: dict[str, list[int]] = {}
    joined = 0
    for seed in range(1, 101):
        records = simulate(replace(config, seed=seed)).records
        joined += any(r["event"] == "join" for r in records)
        for verdict in check(records, config.election.timings()):
            if verdict.ok is False:
                found.setdefault(verdict.name, []).append(seed)
    assert joined >= 90  # the extra nodes did take part
    assert found == {}, f"violations by property, with seeds: {found}"


def test_the_checker_catches_the_old_count_when_extra_nodes_come_and_go() -> None:
    """A checker that has never fired proves nothing: the same nemesis finds the bug."""
    nemesis = (("crash", 0.1), ("extra-nodes", 0.2), ("partition", 0.05), ("pause", 0.1))
    settings = ALGORITHMS["quorum"].settings(node_names(5), count_voters_only=False)
    config = SimConfig(
        algorithm="quorum", election=settings, nemesis=nemesis, extras=("learner", "stray")
    )
    for seed in (24, 28):
        verdicts = check(simulate(replace(config, seed=seed)).records, settings.timings())
        assert next(v for v in verdicts if v.name == "election safety").ok is False, seed


# -- the flags ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "complaint"),
    [
        (["--name", "n4", "--voters", "n1,n2,n3"], b"n4 is not one of the voters (n1,n2,n3)"),
        (["--name", "n2", "--voters", "n1,n2,n3", "--non-voter"], b"n2 is one of the voters"),
        (["--name", "n1", "--voters", "n1,n2,n1"], b"n1 is listed twice"),
        (["--name", "n1", "--voters", ""], b"the list of voters is empty"),
        (["--name", "n1"], b"--election quorum needs --voters"),
        (["--name", "n1", "--cluster-size", "3"], b"--cluster-size was replaced by --voters"),
        (["--name", "n1", "--cluster-size", "\u00b2"], b"--cluster-size was replaced by --voters"),
        (["--voters", "n1,n2"], b"--election quorum needs --name"),
    ],
)
def test_voters_that_would_not_be_safe_stop_the_node_at_start_up(
    flags: list[str], complaint: bytes
) -> None:
    result = run_ddb(
        "v2.1", "node", "-ra", "http://127.0.0.1:9", "--port", "0", "--election", "quorum", *flags
    )
    assert result.returncode != 0
    assert complaint in result.stderr
    assert b"Traceback" not in result.stderr


def test_bully_has_no_voters() -> None:
    result = run_ddb("v2.1", "node", "-ra", "http://127.0.0.1:9", "--voters", "n1,n2")
    assert result.returncode == 1 and b"--voters is not a setting of bully" in result.stderr


def test_the_simulator_refuses_a_join_of_a_node_that_is_not_an_extra(tmp_path: Path) -> None:
    scenario = tmp_path / "join.txt"
    scenario.write_text("1.0 join n2\n", encoding="utf-8")
    result = run_ddb("simulate", "--algorithm", "quorum", "--scenario", str(scenario))
    assert result.returncode == 2
    assert b"line 1: only an extra node joins, once; n2 is not an extra node" in result.stderr
