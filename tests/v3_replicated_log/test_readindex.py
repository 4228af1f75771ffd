"""ReadIndex in the pure core: a read is confirmed only by a majority's answers to a round
that started after it, only once the leader has committed an entry of its term, and never
by a leader cut off from its majority; a restored commit index is replayed at once."""

from __future__ import annotations

import random

import pytest

from stages.v2_1_election.core import HardState, Role, Send
from stages.v2_1_election.quorum_config import QuorumConfig
from stages.v3_replicated_log.messages import AppendEntries, Entry
from stages.v3_replicated_log.raft import NotLeader
from stages.v3_replicated_log.readindex import (
    ReadIndexCore,
    ReadReady,
    ReadState,
    RoundAppendEntries,
    RoundReply,
)
from tests.v3_replicated_log.cluster import Cluster

VOTERS = ["n1", "n2", "n3"]


class Recording(ReadIndexCore):
    """A ReadIndexCore that keeps every read its readies confirmed."""

    served: list[ReadState]

    def ready(self, messages: list[Send]) -> ReadReady:
        ready = super().ready(messages)
        self.served = [*getattr(self, "served", []), *ready.reads]
        return ready


def leader_of(cluster: Cluster) -> Recording:
    core = cluster.nodes["n1"].core
    assert isinstance(core, Recording)
    return core


def elected() -> Cluster:
    """n1 leads term 1, its no-op committed everywhere."""
    cluster = Cluster(VOTERS, core=Recording)
    cluster.tick("n1")
    cluster.settle()
    assert leader_of(cluster).role is Role.LEADER
    return cluster


def read(cluster: Cluster, number: int) -> None:
    core = leader_of(cluster)
    cluster.act("n1", core.read(number, cluster.now), (core.role, core.term))


def served(cluster: Cluster) -> list[ReadState]:
    return getattr(leader_of(cluster), "served", [])


def test_a_read_is_confirmed_once_a_majority_answers_its_round_at_the_commit_index() -> None:
    cluster = elected()
    read(cluster, 1)
    assert served(cluster) == []  # the heartbeats have not even left
    cluster.deliver()  # the round reaches the followers
    assert served(cluster) == []
    cluster.deliver()  # their answers reach the leader
    assert served(cluster) == [ReadState(1, leader_of(cluster).commit_index)]


def test_answers_to_an_earlier_round_do_not_confirm_a_read() -> None:
    cluster = elected()
    cluster.tick("n1")  # a plain heartbeat round (0)
    cluster.deliver()  # the followers answer round 0: in flight
    read(cluster, 1)  # round 1 starts behind those answers
    cluster.deliver()  # round 0's answers arrive, round 1 reaches the followers
    assert served(cluster) == []
    cluster.deliver()
    assert [state.read for state in served(cluster)] == [1]


def test_one_answer_besides_its_own_is_a_majority_of_three() -> None:
    cluster = elected()
    cluster.cut.add(frozenset(("n1", "n3")))
    read(cluster, 1)
    cluster.settle()
    assert [state.read for state in served(cluster)] == [1]


def test_a_leader_cut_off_from_its_majority_never_confirms_a_read() -> None:
    cluster = elected()
    cluster.isolate("n1")
    read(cluster, 1)
    cluster.settle()
    assert served(cluster) == []
    leader = leader_of(cluster)
    for _ in range(20):  # CheckQuorum: it steps down, and forgets the read
        cluster.tick("n1")
        if leader.role is not Role.LEADER:
            break
    assert leader.role is Role.FOLLOWER and leader.waiting == []
    cluster.cut.clear()
    cluster.settle()
    assert served(cluster) == []


def test_a_new_leader_holds_a_read_until_it_has_committed_its_no_op() -> None:
    cluster = Cluster(VOTERS, core=Recording)
    cluster.tick("n1")
    while leader_of(cluster).role is not Role.LEADER:
        cluster.deliver()
    cluster.queue.clear()  # the no-op's AppendEntries are lost
    read(cluster, 1)  # round 1: a heartbeat after the no-op, which the followers lack
    cluster.deliver()
    cluster.deliver()  # both answered round 1 (refusing: a gap), and nothing is committed
    assert leader_of(cluster).commit_index == 0 and served(cluster) == []
    cluster.settle()  # the leader backs up, resends the no-op, commits it
    assert served(cluster) == [ReadState(1, 1)]


def test_a_single_voter_confirms_a_read_at_once() -> None:
    cluster = Cluster(["n1"], core=Recording)
    cluster.tick("n1")
    cluster.settle()
    read(cluster, 5)
    assert served(cluster) == [ReadState(5, 1)]


def test_a_follower_refuses_to_start_a_read() -> None:
    cluster = elected()
    follower = cluster.nodes["n2"].core
    assert isinstance(follower, ReadIndexCore)
    with pytest.raises(NotLeader) as refused:
        follower.read(1, cluster.now)
    assert refused.value.leader == "n1"


def test_a_restored_commit_index_hands_out_the_committed_entries_in_the_first_ready() -> None:
    entries = [Entry(1, 1), Entry(2, 1, "a"), Entry(3, 1, "b")]
    config = QuorumConfig(tuple(VOTERS))
    core = ReadIndexCore("n1", config, random.Random(1), 0.0, HardState(1), entries, commit=2)
    assert core.ready([]).committed == (Entry(1, 1), Entry(2, 1, "a"))
    beyond = ReadIndexCore("n1", config, random.Random(1), 0.0, HardState(1), entries, commit=9)
    assert beyond.commit_index == 3  # a hint is never past the log


def test_the_round_travels_in_json_and_a_message_without_one_is_round_0() -> None:
    message = RoundAppendEntries("n1", 2, 0, 0, (Entry(1, 2),), 0, round=7)
    assert RoundAppendEntries.from_json(message.to_json()) == message
    plain = AppendEntries("n1", 2, 0, 0, (Entry(1, 2),), 0).to_json()
    assert RoundAppendEntries.from_json(plain).round == 0
    reply = RoundReply("n2", 2, True, 1, round=7)
    assert RoundReply.from_json(reply.to_json()) == reply


def test_the_read_index_is_the_commit_index_when_the_read_arrived() -> None:
    cluster = elected()
    at_request = leader_of(cluster).commit_index
    read(cluster, 1)
    cluster.propose("n1", "a write that commits while the round is under way")
    cluster.settle()
    assert leader_of(cluster).commit_index == at_request + 1
    assert served(cluster) == [ReadState(1, at_request)]
