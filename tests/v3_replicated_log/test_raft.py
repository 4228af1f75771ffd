"""The log core, pure and deterministic: replication, repair, the election restriction,
the commit rule (Figure 8), and what each verb's ``ready`` hands out, in which order."""

from __future__ import annotations

import random

import pytest

from stages.v2_1_election.core import HardState, Role
from stages.v2_1_election.messages import RequestVote, Vote
from stages.v2_1_election.quorum_config import QuorumConfig
from stages.v3_replicated_log.messages import (
    MAX_BATCH,
    AppendEntries,
    AppendEntriesReply,
    Entry,
    LogRequestVote,
)
from stages.v3_replicated_log.raft import LogReady, NotLeader, RaftCore
from tests.v3_replicated_log.cluster import Cluster, Node

VOTERS = ("n1", "n2", "n3")


def core(name: str = "n2", terms: tuple[int, ...] = (), term: int = 0) -> RaftCore:
    """A follower restored with entries of these terms, knowing the three voters."""
    entries = [Entry(i, t, f"e{i}") for i, t in enumerate(terms, start=1)]
    node = RaftCore(name, QuorumConfig(VOTERS), random.Random(1), 0.0, HardState(term), entries)
    node.set_peers(VOTERS, 0.0)
    return node


def elected(size: int = 3) -> Cluster:
    """A cluster whose n1 leads term 1, its no-op committed everywhere."""
    cluster = Cluster([f"n{i}" for i in range(1, size + 1)])
    cluster.tick("n1")
    cluster.settle()
    assert cluster.nodes["n1"].core.role is Role.LEADER
    return cluster


def append(prev: tuple[int, int], *terms: int, commit: int = 0, term: int = 5) -> AppendEntries:
    entries = tuple(Entry(prev[0] + i, t, f"new{prev[0] + i}") for i, t in enumerate(terms, 1))
    return AppendEntries("n1", term, prev[0], prev[1], entries, commit)


def reply(node: RaftCore, message: AppendEntries) -> AppendEntriesReply:
    (send,) = node.receive(message, 0.0)
    assert isinstance(send.message, AppendEntriesReply)
    return send.message


# -- the election restriction (§5.4.1) ------------------------------------------------------


@pytest.mark.parametrize("pre_vote", [False, True])
@pytest.mark.parametrize(
    ("last", "granted"),
    [((3, 2), True), ((5, 2), True), ((2, 2), False), ((9, 1), False), ((1, 3), True)],
)
def test_a_vote_goes_only_to_a_log_at_least_as_up_to_date(
    pre_vote: bool, last: tuple[int, int], granted: bool
) -> None:
    node = core(terms=(1, 2, 2), term=2)  # last entry: index 3, term 2
    ask = LogRequestVote("n1", 3, pre_vote, last_index=last[0], last_term=last[1])
    (send,) = node.receive(ask, 0.0)
    assert isinstance(send.message, Vote) and send.message.granted is granted


def test_a_candidate_that_names_no_log_gets_no_vote_from_a_node_with_entries() -> None:
    (send,) = core(terms=(1,), term=1).receive(RequestVote("n1", 2), 0.0)
    assert isinstance(send.message, Vote) and not send.message.granted


def test_a_candidate_asks_with_its_last_index_and_term() -> None:
    node = core(terms=(1, 1, 3), term=3)
    sends = node.tick(node.deadline)
    assert {s.message for s in sends} == {LogRequestVote("n2", 4, True, 3, 3)}


# -- the leader ----------------------------------------------------------------------------


def test_a_new_leader_appends_a_no_op_of_its_term_and_commits_it_with_a_majority() -> None:
    cluster = elected()
    leader = cluster.nodes["n1"].core
    assert leader.log.entries == [Entry(1, 1, None)]
    assert leader.commit_index == 1
    assert cluster.nodes["n1"].applied == [Entry(1, 1, None)]


def test_a_proposal_is_sent_at_once_without_waiting_for_a_tick() -> None:
    cluster = elected()
    leader = cluster.nodes["n1"].core
    sends = leader.propose("x", cluster.now)
    assert sorted(s.to for s in sends) == ["n2", "n3"]
    assert all(s.message == AppendEntries("n1", 1, 1, 1, (Entry(2, 1, "x"),), 1) for s in sends)


def test_one_append_entries_carries_many_entries_up_to_the_batch_limit() -> None:
    cluster = elected()
    cluster.isolate("n1")
    for i in range(MAX_BATCH + 5):
        cluster.propose("n1", f"x{i}")
    cluster.settle()
    cluster.cut.clear()
    cluster.tick("n1")  # n2's optimistic next index is far ahead: it backs up to 2
    cluster.settle()
    sizes = [len(s.message.entries) for s in cluster.sent if isinstance(s.message, AppendEntries)]
    assert max(sizes) == MAX_BATCH  # 64 at once, then the 5 after them at once too
    assert sizes[-2:] == [5, 5]
    assert all(n.core.log.last_index == MAX_BATCH + 6 for n in cluster.nodes.values())


def test_a_proposal_to_a_follower_raises_not_leader_naming_the_leader() -> None:
    cluster = elected()
    with pytest.raises(NotLeader) as raised:
        cluster.nodes["n2"].core.propose("x", cluster.now)
    assert raised.value.leader == "n1"


def test_a_command_too_long_to_travel_is_refused_where_it_enters() -> None:
    cluster = elected()
    with pytest.raises(ValueError, match="at most 4096 characters"):
        cluster.nodes["n1"].core.propose("x" * 4097, cluster.now)
    assert cluster.nodes["n1"].core.log.last_index == 1


def test_a_cluster_of_one_commits_a_proposal_at_once() -> None:
    node = RaftCore("n1", QuorumConfig(("n1",)), random.Random(1), 0.0)
    node.ready(node.tick(node.deadline))
    node.propose("x", node.deadline)
    assert node.ready([]).committed == (Entry(2, 1, "x"),)


# -- the commit rule (Figure 8) -------------------------------------------------------------


def test_figure_8_an_earlier_terms_entry_on_a_majority_is_not_committed() -> None:
    leader = core("n1", terms=(1, 2), term=3)
    now = leader.deadline
    leader.tick(now)  # asks for a pre-vote for term 4
    leader.receive(Vote("n2", 4, granted=True, pre_vote=True), now)
    leader.receive(Vote("n2", 4, granted=True), now)
    assert leader.role is Role.LEADER and leader.log.last_term == 4  # its no-op at 3
    leader.receive(AppendEntriesReply("n2", 4, success=True, match_index=2), now)
    assert leader.commit_index == 0  # entry 2 (term 2) is on n1 and n2: still not committed
    leader.receive(AppendEntriesReply("n3", 4, success=True, match_index=3), now)
    assert leader.commit_index == 3  # the no-op of term 4 commits, and entry 2 with it


def test_acknowledgements_from_a_non_voter_commit_nothing() -> None:
    cluster = elected()
    leader = cluster.nodes["n1"].core
    leader.set_peers([*VOTERS, "n9"], cluster.now)
    cluster.isolate("n2")
    cluster.isolate("n3")
    leader.propose("x", cluster.now)
    leader.receive(AppendEntriesReply("n9", 1, success=True, match_index=2), cluster.now)
    assert leader.commit_index == 1


def test_a_non_voter_that_joins_late_is_repaired_and_applies_every_entry() -> None:
    cluster = elected()
    for i in range(3):
        cluster.propose("n1", f"before-{i}")
    cluster.settle()
    learner = RaftCore("n4", QuorumConfig(VOTERS), random.Random(4), cluster.now)
    cluster.names.append("n4")
    cluster.nodes["n4"] = Node(learner)
    for node in cluster.nodes.values():
        node.core.set_peers(cluster.names, cluster.now)
    cluster.tick("n1")  # the next heartbeat reaches n4, which has nothing: rejected, backed up
    cluster.settle()
    cluster.propose("n1", "after")
    cluster.settle()
    cluster.tick("n1")  # the heartbeat that tells the followers it is committed
    cluster.settle()
    leader = cluster.nodes["n1"].core
    assert learner.log.entries == leader.log.entries
    assert [e.data for e in cluster.nodes["n4"].applied][-1:] == ["after"]
    assert leader.commit_index == leader.log.last_index  # committed by the voters alone


# -- the follower ---------------------------------------------------------------------------


def test_a_follower_missing_the_previous_entry_hints_its_last_index_plus_one() -> None:
    answer = reply(core(terms=(1, 1)), append((5, 3), 5))
    assert (answer.success, answer.match_index, answer.conflict_term, answer.conflict_index) == (
        False,
        5,
        0,
        3,
    )


def test_a_follower_with_another_term_there_hints_that_terms_first_index() -> None:
    answer = reply(core(terms=(1, 2, 2, 2)), append((4, 3), 5))
    assert (answer.conflict_term, answer.conflict_index) == (2, 2)


def test_a_follower_cuts_only_the_suffix_that_conflicts() -> None:
    node = core(terms=(1, 1, 2, 2))
    answer = reply(node, append((2, 1), 1, 3))  # the leader has term 1 at 3, we term 2
    assert answer == AppendEntriesReply("n2", 5, success=True, match_index=4)
    assert [e.term for e in node.log.entries] == [1, 1, 1, 3]
    assert node.ready([]).entries == (Entry(3, 1, "new3"), Entry(4, 3, "new4"))  # to persist


def test_a_late_duplicate_append_entries_cuts_nothing() -> None:
    node = core(terms=(1, 1, 1))
    answer = reply(node, AppendEntries("n1", 5, 0, 0, (Entry(1, 1, "e1"),), 0))
    assert answer.success and answer.match_index == 1
    assert node.log.last_index == 3
    assert node.ready([]).entries == ()  # nothing new to persist


def test_a_follower_commits_no_further_than_the_leader_showed_it_matches() -> None:
    node = core(terms=(1, 1, 1, 1))  # entries 3 and 4 may differ from the leader's
    reply(node, append((2, 1), commit=9))
    assert node.commit_index == 2


# -- ready: persist, send, apply ------------------------------------------------------------


def test_ready_hands_out_entries_and_hard_state_to_persist_messages_and_committed() -> None:
    node = core(term=1)
    sends = node.receive(append((0, 0), 1, 1, commit=1, term=2), 0.0)
    ready = node.ready(sends)
    assert isinstance(ready, LogReady)
    assert ready.hard_state == HardState(2, None)
    assert ready.entries == (Entry(1, 1, "new1"), Entry(2, 1, "new2"))
    assert [s.to for s in ready.messages] == ["n1"]
    assert ready.committed == (Entry(1, 1, "new1"),)


def test_committed_entries_are_handed_out_once_in_log_order() -> None:
    node = core()
    handed: list[Entry] = []
    for commit in (1, 1, 3, 2, 3):
        handed += node.ready(node.receive(append((0, 0), 1, 1, 1, commit=commit), 0.0)).committed
    assert handed == [Entry(1, 1, "new1"), Entry(2, 1, "new2"), Entry(3, 1, "new3")]


def test_a_restarted_node_has_the_log_and_term_it_kept() -> None:
    cluster = elected()
    cluster.propose("n1", "x")
    cluster.settle()
    disk = cluster.nodes["n2"].disk
    cluster.restart("n2", HardState(1, "n1"), disk)
    restarted = cluster.nodes["n2"].core
    assert [e.data for e in restarted.log.entries] == [None, "x"]
    assert (restarted.term, restarted.voted_for, restarted.commit_index) == (1, "n1", 0)
