"""Graceful hand-off: a leader that shuts down resigns, and the highest survivor takes over.

Core tests (no event loop, time moved by hand) and one in-process test that a
Resign message is a route like the others.
"""

from __future__ import annotations

import logging
import random

from stages.v2_1_election.bully import BullyElector, ElectionConfig, Role, Send
from stages.v2_1_election.messages import Heartbeat, Message, Resign, message_from_json

CONFIG = ElectionConfig(
    heartbeat_interval=0.1, leader_timeout=0.5, answer_timeout=0.2, victory_timeout=0.5, jitter=0.0
)
NAMES = ["n1", "n2", "n3"]


def cluster() -> dict[str, BullyElector]:
    """Three nodes that follow n3 at term 1."""
    nodes = {}
    for name in NAMES:
        nodes[name] = BullyElector(name, CONFIG, random.Random(0), 0.0)
        nodes[name].set_peers(NAMES, 0.0)
    nodes["n3"].tick(0.5)
    for send in nodes["n3"].tick(0.7):
        nodes[send.to].receive(send.message, 0.7)
    assert [n.leader for n in nodes.values()] == ["n3"] * 3
    return nodes


def sent(sends: list[Send]) -> list[tuple[str, str, int]]:
    return [(s.to, s.message.kind, s.message.term) for s in sends]


def test_a_resigning_leader_tells_every_peer_at_its_term_and_steps_down(caplog) -> None:
    caplog.set_level(logging.INFO)
    n3 = cluster()["n3"]
    assert sent(n3.resign(1.0)) == [("n1", "resign", 1), ("n2", "resign", 1)]
    assert (n3.role, n3.leader) == (Role.FOLLOWER, None)
    assert "n3 resigned as leader at term 1" in caplog.text


def test_a_follower_that_shuts_down_sends_nothing() -> None:
    assert cluster()["n1"].resign(1.0) == []


def test_the_highest_survivor_starts_an_election_at_once_and_the_others_wait() -> None:
    nodes = cluster()
    resign = Resign("n3", 1)
    assert sent(nodes["n2"].receive(resign, 1.0)) == [("n3", "election", 2)]
    assert (nodes["n2"].role, nodes["n2"].term) == (Role.CANDIDATE, 2)
    assert nodes["n1"].receive(resign, 1.0) == []
    assert (nodes["n1"].role, nodes["n1"].leader) == (Role.FOLLOWER, None)
    # n3 is gone and does not answer: n2 wins one answer_timeout later, and n1 follows it.
    victory = nodes["n2"].tick(1.0 + CONFIG.answer_timeout)
    assert nodes["n2"].role is Role.LEADER
    assert sent(victory) == [("n1", "victory", 2), ("n3", "victory", 2)]
    nodes["n1"].receive(victory[0].message, 1.25)
    assert (nodes["n1"].leader, nodes["n1"].term) == ("n2", 2)


def test_a_follower_that_the_new_leader_never_reaches_still_times_out_as_usual() -> None:
    n1 = cluster()["n1"]
    n1.receive(Resign("n3", 1), 1.0)
    assert n1.tick(1.0 + CONFIG.leader_timeout - 0.01) == []
    assert sent(n1.tick(1.0 + CONFIG.leader_timeout)) == [
        ("n2", "election", 2),
        ("n3", "election", 2),
    ]


def test_a_resign_from_anyone_but_the_leader_of_this_term_changes_nothing() -> None:
    for message in [Resign("n2", 1), Resign("n3", 0), Resign("zzz", 1)]:
        n1 = cluster()["n1"]
        assert n1.receive(message, 1.0) == []
        assert (n1.role, n1.leader, n1.term) == (Role.FOLLOWER, "n3", 1), message
    n1 = cluster()["n1"]  # a newer term: adopted as always, but it names no leader of ours
    assert n1.receive(Resign("n3", 5), 1.0) == []
    assert (n1.role, n1.leader, n1.term) == (Role.FOLLOWER, None, 5)


def test_a_resign_travels_as_json_like_every_message() -> None:
    message: Message = Resign("n3", 7)
    assert message_from_json(message.to_json(), BullyElector.messages) == message
    assert message.to_json() == {"type": "resign", "sender": "n3", "term": 7}
    heartbeat = {"type": "heartbeat", "sender": "n3", "term": 7}
    assert message_from_json(heartbeat, BullyElector.messages) == Heartbeat("n3", 7)
