"""The Bully election core, one rule per test, with time moved by hand.

No event loop and no network: each test calls ``tick``/``receive``/``set_peers``
with an explicit ``now`` and checks the messages the core asks to send.
"""

from __future__ import annotations

import logging
import random

import pytest

from stages.v2_1_election.bully import BullyElector, ConfigError, ElectionConfig, Role, Send
from stages.v2_1_election.messages import Answer, Election, Heartbeat, Join, NewerTerm, Victory

CONFIG = ElectionConfig(
    heartbeat_interval=0.1, leader_timeout=0.5, answer_timeout=0.2, victory_timeout=0.5, jitter=0.0
)


def node(
    name: str, peers: list[str], now: float = 0.0, config: ElectionConfig = CONFIG
) -> BullyElector:
    elector = BullyElector(name, config, random.Random(0), now)
    elector.set_peers(peers, now)
    return elector


def lead(elector: BullyElector) -> None:
    """Time out at 0.5 s, wait out the answer timeout, win at 0.7 s."""
    elector.tick(0.5)
    elector.tick(0.7)
    assert elector.role is Role.LEADER


def sent(sends: list[Send]) -> list[tuple[str, str, int]]:
    return [(s.to, s.message.kind, s.message.term) for s in sends]


def test_a_single_node_elects_itself_after_the_leader_timeout(caplog) -> None:
    caplog.set_level(logging.INFO)
    n1 = node("n1", [])
    assert n1.tick(0.49) == []
    assert n1.role is Role.FOLLOWER and n1.leader is None
    assert n1.tick(0.5) == []  # no peers: nobody to ask
    assert (n1.role, n1.term) == (Role.CANDIDATE, 1)
    assert n1.tick(0.7) == []  # nobody to tell either
    assert (n1.role, n1.leader, n1.term) == (Role.LEADER, "n1", 1)
    assert "n1 became leader at term 1" in caplog.text


def test_a_leader_sends_heartbeats_every_interval() -> None:
    n3 = node("n3", ["n1", "n2"])
    assert n3.tick(0.5) == []  # candidate, with nobody above it to ask
    assert sent(n3.tick(0.7)) == [("n1", "victory", 1), ("n2", "victory", 1)]
    assert n3.tick(0.75) == []
    assert sent(n3.tick(0.8)) == [("n1", "heartbeat", 1), ("n2", "heartbeat", 1)]


def test_a_top_ranked_candidate_still_waits_and_yields_to_a_victory_for_its_term() -> None:
    n3 = node("n3", ["n1", "n2"])  # back from a pause, catching up: n2 already won term 1
    n3.tick(0.5)
    assert (n3.role, n3.term) == (Role.CANDIDATE, 1)
    n3.receive(Victory("n2", 1), 0.55)
    assert (n3.role, n3.leader, n3.term) == (Role.FOLLOWER, "n2", 1)
    assert n3.tick(0.7) == []  # no second leader for term 1


def test_a_follower_that_hears_nothing_asks_only_higher_peers() -> None:
    n2 = node("n2", ["n1", "n3", "n4"])
    assert sent(n2.tick(0.5)) == [("n3", "election", 1), ("n4", "election", 1)]
    assert (n2.role, n2.term) == (Role.CANDIDATE, 1)


def test_a_candidate_nobody_answers_wins_and_tells_every_peer() -> None:
    n2 = node("n2", ["n1", "n3"])
    n2.tick(0.5)
    assert n2.tick(0.69) == []
    assert sent(n2.tick(0.7)) == [("n1", "victory", 1), ("n3", "victory", 1)]
    assert n2.role is Role.LEADER


def test_a_higher_peers_answer_makes_the_candidate_wait_for_victory() -> None:
    n1 = node("n1", ["n2"])
    n1.tick(0.5)
    n1.receive(Answer("n2", 1), 0.55)
    assert n1.tick(0.8) == []  # past answer_timeout, but it was answered: no victory
    assert n1.role is Role.CANDIDATE
    n1.receive(Victory("n2", 1), 0.9)
    assert (n1.role, n1.leader, n1.term) == (Role.FOLLOWER, "n2", 1)


def test_a_missing_victory_restarts_the_election_at_a_new_term() -> None:
    n1 = node("n1", ["n2"])
    n1.tick(0.5)
    n1.receive(Answer("n2", 1), 0.55)
    assert sent(n1.tick(1.05)) == [("n2", "election", 2)]  # 0.55 + victory_timeout
    assert (n1.role, n1.term) == (Role.CANDIDATE, 2)


def test_a_victory_is_adopted_and_the_leader_is_followed() -> None:
    n1 = node("n1", ["n2", "n3"])
    assert n1.receive(Victory("n3", 4), 0.1) == []
    assert (n1.role, n1.leader, n1.term) == (Role.FOLLOWER, "n3", 4)
    n1.receive(Heartbeat("n3", 4), 0.4)
    assert n1.tick(0.85) == []  # heard from the leader at 0.4: wait until 0.9
    assert n1.role is Role.FOLLOWER


def test_a_new_higher_ranked_node_does_not_depose_a_live_leader() -> None:
    n9 = node("n9", ["n1", "n2"], now=10.0)  # joins a cluster that n2 leads
    assert n9.receive(Heartbeat("n2", 3), 10.2) == []
    for step in range(1, 30):  # three seconds of heartbeats
        now = 10.2 + step * 0.1
        n9.receive(Heartbeat("n2", 3), now)
        assert n9.tick(now) == []
    assert (n9.role, n9.leader, n9.term) == (Role.FOLLOWER, "n2", 3)


def test_a_lower_nodes_election_is_answered_and_the_higher_node_runs_its_own() -> None:
    n2 = node("n2", ["n1", "n3"])
    out = sent(n2.receive(Election("n1", 1), 0.1))
    assert out == [("n1", "answer", 1), ("n3", "election", 2)]
    assert (n2.role, n2.term) == (Role.CANDIDATE, 2)


def test_a_leader_answers_an_election_and_reasserts_itself() -> None:
    n3 = node("n3", ["n1", "n2"])
    lead(n3)  # leader at term 1, at 0.7 s
    assert sent(n3.receive(Election("n1", 1), 0.8)) == [("n1", "answer", 1), ("n1", "victory", 1)]
    assert n3.role is Role.LEADER


def test_elections_from_higher_nodes_are_ignored() -> None:
    n1 = node("n1", ["n2"])
    assert n1.receive(Election("n2", 1), 0.1) == []


def test_an_older_term_heartbeat_is_rejected_and_the_sender_told_the_term() -> None:
    n1 = node("n1", ["n2", "n3"])
    n1.receive(Victory("n2", 5), 0.1)
    replies = n1.receive(Heartbeat("n3", 4), 0.2)
    assert replies == [Send("n3", NewerTerm("n1", 5, "n2"))]
    assert (n1.leader, n1.term) == ("n2", 5)  # nothing changed
    assert n1.receive(Victory("n3", 4), 0.3) == [Send("n3", NewerTerm("n1", 5, "n2"))]


def test_a_leader_steps_down_at_once_on_a_newer_term(caplog) -> None:
    caplog.set_level(logging.INFO)
    n3 = node("n3", ["n1", "n2"])
    lead(n3)  # leader at term 1, at 0.7 s
    n3.receive(NewerTerm("n2", 2, "n2"), 0.8)
    assert (n3.role, n3.leader, n3.term) == (Role.FOLLOWER, "n2", 2)
    assert "n3 became follower at term 2 (leader unknown)" in caplog.text


def test_a_leader_that_hears_a_newer_leader_follows_it() -> None:
    n3 = node("n3", ["n1", "n2"])
    lead(n3)  # leader at term 1, at 0.7 s
    n3.receive(Heartbeat("n2", 7), 0.8)
    assert (n3.role, n3.leader, n3.term) == (Role.FOLLOWER, "n2", 7)


def test_of_two_leaders_in_one_term_the_lower_yields() -> None:
    n2 = node("n2", ["n1", "n3"])
    n2.tick(0.5)  # n3's answer is lost (a partition): n2 wins term 1
    n2.tick(0.7)
    assert n2.role is Role.LEADER and n2.term == 1
    n2.receive(Heartbeat("n1", 1), 0.75)  # a lower leader in the same term: ignored
    assert n2.role is Role.LEADER
    n2.receive(Heartbeat("n3", 1), 0.8)
    assert (n2.role, n2.leader) == (Role.FOLLOWER, "n3")


def test_terms_only_grow() -> None:
    rng = random.Random(42)
    names = ["a", "b", "c"]
    n = node("b", ["a", "c"])
    kinds = [Heartbeat, Election, Answer, Victory]
    seen = [n.term]
    for step in range(2000):
        now = step * 0.05
        if rng.random() < 0.5:
            n.tick(now)
        else:
            kind = rng.choice(kinds)
            n.receive(kind(rng.choice(names[:1] + names[2:]), rng.randint(0, 30)), now)
        seen.append(n.term)
    assert seen == sorted(seen)


def test_a_new_leader_greets_newcomers_at_once() -> None:
    n3 = node("n3", ["n1"])
    lead(n3)  # leader at term 1, at 0.7 s
    assert sent(n3.set_peers(["n1", "n2"], 0.75)) == [("n2", "heartbeat", 1)]
    assert n3.set_peers(["n1", "n2", "n3"], 0.8) == []  # never its own peer


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"leader_timeout": 0.2}, "at least 3 times"),
        ({"heartbeat_interval": 0}, "heartbeat_interval must be greater than 0"),
        ({"answer_timeout": -1}, "answer_timeout must be greater than 0"),
        ({"answer_timeout": 0.4, "victory_timeout": 0.3}, "victory_timeout"),
        ({"jitter": 2}, "jitter"),
    ],
)
def test_inconsistent_timings_are_refused_with_a_reason(kwargs: dict, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        ElectionConfig(**kwargs)


def test_a_node_without_a_leader_asks_newly_found_peers_who_leads() -> None:
    n9 = BullyElector("n9", CONFIG, random.Random(0), 0.0)
    assert sent(n9.set_peers(["n1", "n2"], 0.01)) == [("n1", "join", 0), ("n2", "join", 0)]
    n9.receive(Victory("n2", 3), 0.1)
    assert n9.set_peers(["n1", "n2", "n3"], 0.2) == []  # it has a leader now: no more asking


def test_a_join_is_answered_by_the_leader_and_by_nodes_at_a_newer_term() -> None:
    n2 = node("n2", ["n1"])
    lead(n2)  # leader at term 1, at 0.7 s
    assert sent(n2.receive(Join("n9", 0), 0.8)) == [("n9", "heartbeat", 1)]
    assert "n9" in n2.peers
    n1 = node("n1", ["n2"])
    assert n1.receive(Join("n9", 0), 0.1) == []  # a follower at the same term: nothing to say
    assert "n9" in n1.peers  # but it counts the newcomer from now on
    n1.receive(Victory("n2", 4), 0.2)
    assert n1.receive(Join("n9", 0), 0.3) == [Send("n9", NewerTerm("n1", 4, "n2"))]


def test_a_stale_election_is_answered_but_does_not_depose_a_live_leader() -> None:
    n2 = node("n2", ["n1", "n3"])
    n2.receive(Victory("n3", 4), 0.1)  # n3 leads term 4
    assert sent(n2.receive(Election("n1", 3), 0.2)) == [("n1", "answer", 4)]  # older term
    assert sent(n2.receive(Election("n1", 4), 0.3)) == [("n1", "answer", 4)]  # missed Victory
    assert (n2.role, n2.leader, n2.term) == (Role.FOLLOWER, "n3", 4)
    assert sent(n2.receive(Election("n1", 5), 0.4)) == [("n1", "answer", 5), ("n3", "election", 6)]


def test_a_lagging_registry_view_cannot_give_one_term_two_leaders() -> None:
    # n1 has not seen n2 in the registry yet; n2 has seen n1. n2's Join fixes n1's view.
    n1, n2 = node("n1", []), node("n2", [])
    joins = n2.set_peers(["n1"], 0.0)
    for send in joins:
        n1.receive(send.message, 0.001)
    assert "n2" in n1.peers
    asked = n1.tick(0.5)  # n1 times out and must now ask n2
    assert sent(asked) == [("n2", "election", 1)]
    n2.tick(0.5)
    for send in asked:
        for reply in n2.receive(send.message, 0.501):
            n1.receive(reply.message, 0.502)
    n1.tick(0.8)
    n2.tick(0.8)
    assert [n.role for n in (n1, n2)] == [Role.CANDIDATE, Role.LEADER]  # n1 waits for victory


def test_a_node_that_was_not_running_does_not_trust_its_overdue_deadline() -> None:
    n1 = node("n1", ["n2", "n3"])
    n1.receive(Victory("n3", 4), 0.1)  # follows n3; would give up on it at 0.6
    assert n1.resumed(2.0) == []  # back from a 1.9 s pause: the heartbeats are still queued
    assert n1.tick(2.0) == []  # no election yet
    n1.receive(Heartbeat("n3", 4), 2.05)  # and there they are
    assert n1.tick(2.3) == []
    assert (n1.role, n1.leader, n1.term) == (Role.FOLLOWER, "n3", 4)
    assert sent(n1.tick(2.7)) == [
        ("n2", "election", 5),
        ("n3", "election", 5),
    ]  # but it can time out


def test_resuming_does_not_delay_a_leaders_heartbeats() -> None:
    n3 = node("n3", ["n1"])
    lead(n3)
    n3.resumed(5.0)
    assert sent(n3.tick(5.0)) == [("n1", "heartbeat", 1)]


def test_an_election_from_a_newer_term_makes_a_leader_step_down_and_run_again() -> None:
    n3 = node("n3", ["n1", "n2"])
    lead(n3)  # leader at term 1, at 0.7 s
    out = sent(n3.receive(Election("n1", 5), 0.8))  # n1 missed our heartbeats for a while
    assert out == [("n1", "answer", 5)]
    assert (n3.role, n3.term) == (Role.CANDIDATE, 6)  # nobody above it: it wins term 6 at 1.0
    assert sent(n3.tick(1.0)) == [("n1", "victory", 6), ("n2", "victory", 6)]


# -- what comes from outside is not taken on trust --------------------------------------


@pytest.mark.parametrize("kind", [Heartbeat, Victory, Election, Join])
def test_a_message_claiming_to_come_from_the_receiver_itself_is_ignored(kind, caplog) -> None:
    n3 = node("n3", ["n1", "n2"])
    caplog.set_level(logging.WARNING)
    assert n3.receive(kind("n3", 7), 0.1) == []
    assert (n3.role, n3.leader, n3.term) == (Role.FOLLOWER, None, 0)
    assert "n3 ignored a" in caplog.text
    assert "became follower of n3" not in caplog.text


def test_terms_stop_at_max_term_instead_of_growing_past_it(caplog) -> None:
    from stages.v2_1_election.messages import MAX_TERM

    n1 = node("n1", ["n2"])
    n1.receive(Heartbeat("n2", MAX_TERM), 0.1)  # the largest term a message may carry
    assert (n1.leader, n1.term) == ("n2", MAX_TERM)
    caplog.set_level(logging.ERROR)
    assert n1.tick(5.0) == []  # the leader went silent, but there is no term left to run at
    assert (n1.role, n1.term) == (Role.FOLLOWER, MAX_TERM)
    assert "cannot start an election: term 9223372036854775807 is the last" in caplog.text
    assert n1.receive(Heartbeat("n2", MAX_TERM + 1), 5.1) == []  # never adopted, never wrapped
    assert n1.term == MAX_TERM


def test_an_unlisted_join_sender_counts_as_a_peer_only_for_the_join_grace() -> None:
    grace = CONFIG.join_grace
    n2 = node("n2", ["n1"])
    lead(n2)  # leader at term 1, at 0.7 s
    n2.receive(Join("zzz", 0), 1.0)
    assert "zzz" in n2.peers
    n2.tick(1.0 + grace - 0.01)
    assert "zzz" in n2.peers, "still inside its grace"
    sends = n2.tick(1.0 + grace)
    assert "zzz" not in n2.peers, f"not listed by the registry within {grace}s: forgotten"
    assert all(s.to != "zzz" for s in sends)


def test_a_join_sender_the_registry_lists_stays_a_peer_after_the_grace() -> None:
    n2 = node("n2", ["n1"])
    n2.receive(Join("n3", 0), 0.1)
    n2.set_peers(["n1", "n3"], 0.2)  # the registry lists it now
    n2.tick(0.2 + 10 * CONFIG.join_grace)
    assert n2.peers == {"n1", "n3"}


def test_three_thousand_forged_joins_leave_at_most_a_grace_worth_of_peers() -> None:
    n2 = node("n2", ["n1"])
    lead(n2)
    now = 1.0
    for i in range(3000):  # 300 made-up names a second for 10 s, as in the flood
        now = 1.0 + i / 300
        n2.receive(Join(f"fake{i:04d}", 0), now)
        n2.tick(now)
    assert len(n2.peers) <= 1 + 300 * CONFIG.join_grace + 1
    assert (n2.role, n2.term) == (Role.LEADER, 1), "the leader is not disturbed"
    n2.tick(now + CONFIG.join_grace)
    assert n2.peers == {"n1"}
