"""The majority-vote core, one rule per test, with time moved by hand.

No event loop and no network: each test calls ``tick``/``receive``/``set_peers``
with an explicit ``now`` and checks the messages the core asks to send.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pytest

from stages.v2_1_election.core import ConfigError, HardState, Ready, Role, Send
from stages.v2_1_election.messages import (
    MAX_TERM,
    Heartbeat,
    HeartbeatAck,
    RequestVote,
    Vote,
    message_from_json,
)
from stages.v2_1_election.quorum import QuorumConfig, QuorumElector
from stages.v2_1_election.votefile import VoteFile, VoteFileError

FIVE = ("n1", "n2", "n3", "n4", "n5")
CONFIG = QuorumConfig(voters=FIVE, heartbeat_interval=0.1, election_timeout=0.5)
PEERS = ["n1", "n2", "n3", "n4", "n5"]


def node(
    name: str = "n1", now: float = 0.0, config: QuorumConfig = CONFIG, restored=None
) -> QuorumElector:
    elector = QuorumElector(name, config, random.Random(0), now, restored)
    elector.set_peers(PEERS, now)
    return elector


def sent(sends: list[Send]) -> list[tuple[str, str, int]]:
    return [(s.to, s.message.kind, s.message.term) for s in sends]


def elect(elector: QuorumElector) -> float:
    """Time out, win the pre-vote, then the vote, from n2 and n3; return the time."""
    now = elector.deadline
    elector.tick(now)
    for voter in ("n2", "n3"):
        elector.receive(Vote(voter, elector.term + 1, granted=True, pre_vote=True), now)
    for voter in ("n2", "n3"):
        elector.receive(Vote(voter, elector.term, granted=True), now)
    assert elector.role is Role.LEADER
    return now


def follower_of(leader: str, term: int, now: float = 0.0) -> QuorumElector:
    elector = node("n2", now)
    elector.receive(Heartbeat(leader, term), now)
    assert (elector.role, elector.leader, elector.term) == (Role.FOLLOWER, leader, term)
    return elector


# -- timeouts ---------------------------------------------------------------------------


def test_the_election_timeout_is_drawn_between_t_and_2t() -> None:
    deadlines = [
        QuorumElector("n1", CONFIG, random.Random(seed), 10.0).deadline for seed in range(200)
    ]
    assert all(10.5 <= d < 11.0 for d in deadlines)
    assert max(deadlines) - min(deadlines) > 0.4  # spread over the range, not one value


def test_a_follower_does_nothing_before_its_timeout() -> None:
    n1 = node()
    assert n1.tick(n1.deadline - 0.001) == []
    assert n1.role is Role.FOLLOWER


# -- PreVote ------------------------------------------------------------------------------


def test_pre_vote_asks_for_the_next_term_without_raising_its_own(caplog) -> None:
    caplog.set_level(logging.INFO)
    n1 = node()
    sends = n1.tick(n1.deadline)
    assert (n1.role, n1.term) == (Role.PRE_CANDIDATE, 0)
    assert sent(sends) == [(peer, "request_vote", 1) for peer in PEERS[1:]]
    assert all(s.message.pre_vote for s in sends)  # type: ignore[attr-defined]
    assert "n1 became pre-candidate at term 0" in caplog.text


def test_a_majority_of_pre_votes_starts_the_real_election() -> None:
    n1 = node()
    now = n1.deadline
    n1.tick(now)
    assert n1.receive(Vote("n2", 1, granted=True, pre_vote=True), now) == []
    sends = n1.receive(Vote("n3", 1, granted=True, pre_vote=True), now)
    assert (n1.role, n1.term, n1.voted_for) == (Role.CANDIDATE, 1, "n1")
    assert sent(sends) == [(peer, "request_vote", 1) for peer in PEERS[1:]]


def test_a_node_that_hears_its_leader_refuses_a_pre_vote_and_keeps_its_term() -> None:
    n2 = follower_of("n5", 3, now=1.0)
    replies = n2.receive(RequestVote("n1", 4, pre_vote=True), 1.2)
    assert replies == [Send("n1", Vote("n2", 3, granted=False, pre_vote=True))]
    assert (n2.term, n2.leader, n2.voted_for) == (3, "n5", None)


def test_a_node_that_heard_no_leader_for_t_grants_a_pre_vote_without_changing_term() -> None:
    n2 = follower_of("n5", 3, now=1.0)
    replies = n2.receive(RequestVote("n1", 4, pre_vote=True), 1.6)
    assert replies == [Send("n1", Vote("n2", 4, granted=True, pre_vote=True))]
    assert (n2.term, n2.voted_for) == (3, None)  # a pre-vote promises nothing


def test_a_node_rejoining_after_a_partition_does_not_raise_the_leaders_term() -> None:
    leader = node("n1")
    elect(leader)
    rejoined = node("n5")
    for _ in range(5):  # cut off: it asks again and again, and its term never moves
        rejoined.tick(rejoined.deadline)
        assert (rejoined.role, rejoined.term) == (Role.PRE_CANDIDATE, 0)
    term = leader.term
    beats = leader.tick(leader.deadline)  # the partition heals: the heartbeat gets through
    replies = rejoined.receive(next(s.message for s in beats if s.to == "n5"), leader.deadline)
    for reply in replies:
        leader.receive(reply.message, leader.deadline)
    assert (leader.role, leader.term) == (Role.LEADER, term)
    assert (rejoined.role, rejoined.leader, rejoined.term) == (Role.FOLLOWER, "n1", term)


# -- the vote rule ---------------------------------------------------------------------


def test_a_node_votes_at_most_once_per_term() -> None:
    n3 = node("n3")
    assert n3.receive(RequestVote("n1", 1), 0.1) == [Send("n1", Vote("n3", 1, granted=True))]
    assert n3.receive(RequestVote("n2", 1), 0.1) == [Send("n2", Vote("n3", 1, granted=False))]
    assert n3.receive(RequestVote("n1", 1), 0.2) == [Send("n1", Vote("n3", 1, granted=True))]
    assert n3.voted_for == "n1"


def test_a_vote_request_from_an_older_term_is_refused_with_the_current_term() -> None:
    n3 = follower_of("n5", 4)
    assert n3.receive(RequestVote("n1", 2), 0.1) == [Send("n1", Vote("n2", 4, granted=False))]
    assert n3.voted_for is None


def test_a_node_that_hears_its_leader_refuses_a_newer_vote_request_and_keeps_its_term() -> None:
    n2 = follower_of("n5", 3, now=1.0)
    assert n2.receive(RequestVote("n1", 9), 1.2) == [Send("n1", Vote("n2", 3, granted=False))]
    assert (n2.term, n2.leader) == (3, "n5")


def test_a_candidate_needs_a_majority_of_the_configured_voters_not_of_the_peers_it_knows() -> None:
    n1 = QuorumElector("n1", CONFIG, random.Random(0), 0.0)
    n1.set_peers(["n2"], 0.0)  # the registry lists one peer; the cluster has five nodes
    now = n1.deadline
    n1.tick(now)
    n1.receive(Vote("n2", 1, granted=True, pre_vote=True), now)
    assert n1.role is Role.PRE_CANDIDATE  # 2 of 5 is no majority
    n1.receive(Vote("n3", 1, granted=True, pre_vote=True), now)
    assert n1.role is Role.CANDIDATE
    n1.receive(Vote("n2", 1, granted=True), now)
    n1.receive(Vote("n2", 1, granted=True), now)  # a duplicate counts once
    assert n1.role is Role.CANDIDATE
    n1.receive(Vote("n4", 1, granted=True), now)
    assert n1.role is Role.LEADER


def test_a_single_node_cluster_elects_itself(caplog) -> None:
    caplog.set_level(logging.INFO)
    alone = QuorumElector("n1", QuorumConfig(voters=("n1",)), random.Random(0), 0.0)
    alone.tick(alone.deadline)
    assert (alone.role, alone.term) == (Role.LEADER, 1)
    assert "n1 became leader at term 1" in caplog.text


# -- terms -------------------------------------------------------------------------------


def test_a_leader_steps_down_on_a_newer_term() -> None:
    n1 = node()
    now = elect(n1)
    assert n1.receive(HeartbeatAck("n4", 7), now) == []
    assert (n1.role, n1.term, n1.leader, n1.voted_for) == (Role.FOLLOWER, 7, None, None)


def test_a_heartbeat_from_an_older_term_is_answered_with_the_newer_term() -> None:
    n2 = follower_of("n5", 4)
    assert n2.receive(Heartbeat("n1", 2), 0.1) == [Send("n1", HeartbeatAck("n2", 4))]
    assert n2.leader == "n5"


def test_a_candidate_follows_a_leader_of_its_own_term() -> None:
    n1 = node()
    now = n1.deadline
    n1.tick(now)
    n1.receive(Vote("n2", 1, granted=True, pre_vote=True), now)
    n1.receive(Vote("n3", 1, granted=True, pre_vote=True), now)
    assert n1.receive(Heartbeat("n4", 1), now) == [Send("n4", HeartbeatAck("n1", 1))]
    assert (n1.role, n1.leader) == (Role.FOLLOWER, "n4")


def test_a_node_at_the_last_term_refuses_to_start_another(caplog) -> None:
    n1 = node(restored=HardState(MAX_TERM - 1))
    now = n1.deadline
    n1.tick(now)
    for voter in ("n2", "n3"):
        n1.receive(Vote(voter, MAX_TERM, granted=True, pre_vote=True), now)
    assert (n1.role, n1.term) == (Role.CANDIDATE, MAX_TERM)  # the last term can be used
    n1.become_follower(None, now)
    assert n1.become_candidate(now) == []
    assert (n1.role, n1.term) == (Role.FOLLOWER, MAX_TERM)  # never wraps to a small term
    assert "term 9223372036854775807 is the last" in caplog.text


def test_a_message_from_itself_or_beyond_the_last_term_is_ignored() -> None:
    n2 = follower_of("n5", 3)
    assert n2.receive(Heartbeat("n2", 9), 0.1) == []  # nodes never message themselves
    assert n2.receive(RequestVote("n1", MAX_TERM + 1), 0.1) == []  # only a forged one has it
    assert (n2.term, n2.leader) == (3, "n5")


# -- the leader and CheckQuorum ----------------------------------------------------------


def test_a_leader_heartbeats_every_interval() -> None:
    n1 = node()
    now = elect(n1)
    assert n1.tick(now + 0.05) == []
    assert sent(n1.tick(now + 0.1)) == [(peer, "heartbeat", 1) for peer in PEERS[1:]]


def test_a_leader_that_hears_no_majority_for_t_steps_down(caplog) -> None:
    caplog.set_level(logging.INFO)
    n1 = node()
    now = elect(n1)
    t = now
    while n1.deadline < now + 0.45:  # n2 keeps answering; n3 (a voter) falls silent
        t = n1.deadline
        n1.tick(t)
        n1.receive(HeartbeatAck("n2", 1), t)
    assert n1.role is Role.LEADER  # n3's vote still counts as heard, for T
    while n1.role is Role.LEADER and t < now + 1.0:
        t = n1.deadline
        n1.tick(t)
        n1.receive(HeartbeatAck("n2", 1), t)
    assert n1.role is Role.FOLLOWER and n1.term == 1
    assert now + 0.5 <= t <= now + 0.5 + 0.1 + 1e-9  # within T and one heartbeat interval
    assert "n1 has not heard from a majority" in caplog.text


def test_a_leader_that_hears_a_majority_keeps_leading() -> None:
    n1 = node()
    now = elect(n1)
    for _ in range(30):
        now = n1.deadline
        n1.tick(now)
        n1.receive(HeartbeatAck("n2", 1), now)
        n1.receive(HeartbeatAck("n4", 1), now)
    assert n1.role is Role.LEADER


# -- durable vote --------------------------------------------------------------------------


def test_the_vote_is_handed_out_to_keep_before_the_reply_and_survives_a_restart() -> None:
    n3 = node("n3")
    ready = n3.ready(n3.receive(RequestVote("n1", 4), 0.1))
    assert ready == Ready(HardState(4, "n1"), [Send("n1", Vote("n3", 4, granted=True))])
    assert n3.ready([]) == Ready(None, [])  # each change is handed out once
    restarted = node("n3", now=1.0, restored=ready.hard_state)
    assert (restarted.term, restarted.voted_for) == (4, "n1")
    assert restarted.receive(RequestVote("n2", 4), 1.1) == [
        Send("n2", Vote("n3", 4, granted=False))
    ]


def test_a_node_without_durable_state_can_vote_twice_in_a_term() -> None:
    n3 = node("n3")
    n3.receive(RequestVote("n1", 4), 0.1)
    amnesiac = node("n3", now=1.0)  # restarted without its vote
    assert amnesiac.receive(RequestVote("n2", 4), 1.1)[0].message.granted  # type: ignore[attr-defined]


def test_the_vote_file_round_trips_and_replaces_itself_atomically(tmp_path: Path) -> None:
    file = VoteFile(tmp_path)
    assert file.load() == (0, None)  # never written: a new node
    file.save(HardState(3, "n2"))
    file.save(HardState(4, None))
    assert file.load() == (4, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vote.json"]  # no temporary left
    assert QuorumElector("n1", CONFIG, random.Random(0), 0.0, VoteFile(tmp_path).load()).term == 4


@pytest.mark.parametrize(
    "text",
    ["", "{", '{"term": -1, "voted_for": null}', '{"term": 2}', '{"term": 1, "voted_for": 7}'],
)
def test_a_corrupt_vote_file_is_an_error_not_a_reset(tmp_path: Path, text: str) -> None:
    (tmp_path / "vote.json").write_text(text, encoding="utf-8")
    with pytest.raises(VoteFileError, match="corrupt"):
        VoteFile(tmp_path).load()


# -- settings and messages ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"voters": ()}, "voters: the set of voters is empty"),
        ({"voters": ("n1", "n2", "n1")}, "voters: n1 is listed twice"),
        ({"voters": ("n1", "n 2")}, "voters: voter 'n 2': 'name' must be"),
        ({"voters": FIVE[:3], "election_timeout": 0.2}, "at least 3 times heartbeat_interval"),
        ({"voters": FIVE[:3], "heartbeat_interval": 0}, "heartbeat_interval must be greater"),
    ],
)
def test_settings_that_cannot_work_are_refused(kwargs: dict, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        QuorumConfig(**kwargs)


def test_the_new_messages_parse_from_their_fields_alone() -> None:
    data = {"type": "vote", "sender": "n2", "term": 3, "granted": True, "pre_vote": True}
    assert message_from_json(data, QuorumElector.messages) == Vote("n2", 3, True, pre_vote=True)
    assert Vote("n2", 3, granted=True).to_json() == {**data, "pre_vote": False}
    request = {"type": "request_vote", "sender": "n1", "term": 1}
    assert message_from_json(request, QuorumElector.messages) == RequestVote("n1", 1)


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"type": "vote", "sender": "n2", "term": 3, "granted": 1}, "vote.granted: expected true"),
        ({"type": "request_vote", "sender": "n2"}, "needs 'sender' and 'term'"),
        ({"type": "vote", "sender": "n2", "term": 3, "leader": "n1"}, "unknown field"),
        ({"type": "heartbeat_ack", "sender": "n2", "term": 2**63}, "from 0 to 2\\*\\*63 - 1"),
    ],
)
def test_a_bad_field_is_named_in_the_error(data: dict, complaint: str) -> None:
    from stages.v2_registry.models import InvalidMessage

    with pytest.raises(InvalidMessage, match=complaint):
        message_from_json(data, QuorumElector.messages)
