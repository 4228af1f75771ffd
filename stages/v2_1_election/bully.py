"""The Bully election, with a generation clock, as a pure state machine.

Nothing here reads a clock, sleeps, sends or receives: the caller hands in the time
(``now``, in seconds) and a seeded :class:`random.Random`, and every verb returns the
messages to send, in a real node as in the simulator. The timings: :mod:`~.bully_config`.

The rules, in one place:

* **Rank** is the node name: a name that sorts later outranks one that sorts
  earlier (``"n3" > "n2"``), as in the original project.
* On start-up a node is a follower with no leader. It sends Join to the peers it
  discovers: the leader replies with a Heartbeat, the others with the term they are
  at, so a newcomer (or a node restarted without memory) never reuses an old term;
  everyone counts the newcomer as a peer from then on, even before the registry lists
  it. It waits ``leader_timeout`` for a Heartbeat or Victory and adopts whoever sends
  one, so a node that joins a cluster with a live leader does not depose it.
* A follower that hears nothing from its leader for ``leader_timeout`` starts an
  election: it moves to a new term and sends Election to every higher peer.
* A candidate that gets no Answer within ``answer_timeout`` wins: Victory to every
  peer, then a Heartbeat every ``heartbeat_interval``. A candidate that was answered
  waits ``victory_timeout`` for a Victory, and starts a new election if none comes.
* A node that receives Election from a lower-ranked node answers it and starts its
  own election; a leader answers and re-asserts itself with a Victory (an Election
  from a newer term, though, first makes the leader step down). An Election from an
  older term, or one that reaches a follower of a leader of the same term, is stale
  (the sender missed a Victory): it is answered, and the answer's term brings the
  sender up to date, but it starts nothing.
* **Generation clock**: every message carries the sender's term. A node that sees a
  newer term adopts it, and a leader or candidate steps down at once. Heartbeats and
  Victories from an older term are rejected with a NewerTerm reply. Terms only grow.
* A leader that shuts down (``resign``) sends Resign to every peer. The highest node
  that remains starts an election at once; the others wait for its Victory as they
  would for a leader's heartbeat, so the hand-off takes one election (about
  ``answer_timeout``), not a ``leader_timeout`` of silence first.
* A node that was not running for a while (``resumed``) waits two heartbeat
  intervals before trusting a deadline that passed while it slept.
* **Nothing from outside is taken on trust**: a message "from" this very node is
  ignored (nodes never message themselves), a term never passes :data:`MAX_TERM`
  (a node that would need a larger one stays where it is), and a Join's sender that
  the registry does not list counts as a peer only for ``join_grace`` seconds.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable

from stages.v2_1_election.bully_config import ElectionConfig
from stages.v2_1_election.core import ConfigError, Ready, Role, Send, Timings, cannot_be_real
from stages.v2_1_election.messages import (
    MAX_TERM,
    Answer,
    Election,
    Heartbeat,
    Join,
    Message,
    NewerTerm,
    Resign,
    Victory,
)

__all__ = ["BullyElector", "ConfigError", "ElectionConfig", "Role", "Send", "outranks"]

log = logging.getLogger(__name__)


def outranks(a: str, b: str) -> bool:
    """Does node ``a`` rank above node ``b``? The later name in sort order wins."""
    return a > b


class BullyElector:
    """One node's view of the election. Drive it with ``tick``, ``receive`` and ``set_peers``."""

    algorithm = "bully"
    voter = True  # every node may lead: the highest live name wins
    messages: tuple[type[Message], ...] = (Heartbeat, Election, Answer, Victory, Join, NewerTerm)
    messages += (Resign,)  # on the wire

    def __init__(self, name: str, config: ElectionConfig, rng: random.Random, now: float) -> None:
        self.name, self.config, self.rng = name, config, rng
        self.term = 0
        self.role = Role.FOLLOWER
        self.leader: str | None = None
        self.peers: frozenset[str] = frozenset()  # listed | joiners: whom elections count
        self.listed: frozenset[str] = frozenset()  # the peers the registry lists
        self.joiners: dict[str, float] = {}  # unlisted Join senders -> when they stop counting
        self.answered = False  # a candidate that a higher node answered waits for Victory
        self.deadline = self._leader_deadline(now)  # when the current wait ends

    @property
    def timings(self) -> Timings:
        return self.config.timings()

    # -- the verbs -----------------------------------------------------------------------

    # --8<-- [start:tick]
    def tick(self, now: float) -> list[Send]:
        """Let time pass: act on whichever wait has run out."""
        if self.joiners and min(self.joiners.values()) <= now:
            self._forget_joiners(now)
        if now < self.deadline:
            return []
        if self.role is Role.LEADER:
            self.deadline = now + self.config.heartbeat_interval
            return self._to_all(Heartbeat(self.name, self.term))
        if self.role is Role.CANDIDATE and not self.answered:
            return self.become_leader(now)  # nobody above us answered: we win
        if self.role is Role.CANDIDATE:
            log.info("%s heard no victory at term %d; trying again", self.name, self.term)
        else:
            silent, wait = self.leader or "any leader", self.config.leader_timeout
            log.info("%s heard nothing from %s for %.2fs", self.name, silent, wait)
        return self.become_candidate(now)

    # --8<-- [end:tick]

    # --8<-- [start:receive]
    def receive(self, message: Message, now: float) -> list[Send]:
        """Handle one message from a peer; return the replies to send."""
        if cannot_be_real(self.name, message):
            return []
        if message.term > self.term:
            self._adopt_term(message.term, now)  # the generation clock moves forward
        handler = getattr(self, f"on_{message.kind}")
        replies: list[Send] = handler(message, now)
        return replies

    # --8<-- [end:receive]

    def set_peers(self, names: Iterable[str], now: float) -> list[Send]:
        """The membership changed (as the registry reports it); we are never our own peer."""
        self.listed = frozenset(names) - {self.name}
        for name in self.listed & self.joiners.keys():
            del self.joiners[name]  # listed now: it counts for as long as the registry says
        peers = self.listed | self.joiners.keys()
        joined = sorted(peers - self.peers)
        self.peers = peers
        if self.role is Role.LEADER:  # tell newcomers at once who leads
            return [Send(peer, Heartbeat(self.name, self.term)) for peer in joined]
        if self.leader is None:  # we are looking for a leader: ask the newcomers
            return [Send(peer, Join(self.name, self.term)) for peer in joined]
        return []

    # --8<-- [start:resumed]
    def resumed(self, now: float) -> list[Send]:
        """The process was not running for a while (stopped, or starved of CPU).

        Its deadlines kept running while it heard nothing, so a leader that seems
        silent may simply not have been listened to. A follower or candidate gives
        the messages that piled up, and the leader's next heartbeat, two heartbeat
        intervals before it acts on a deadline that passed while it slept.
        """
        if self.role is not Role.LEADER:
            self.deadline = max(self.deadline, now + 2 * self.config.heartbeat_interval)
        return []

    # --8<-- [end:resumed]

    # --8<-- [start:resign]
    def resign(self, now: float) -> list[Send]:
        """This node is shutting down: a leader tells its peers to elect another at once."""
        if self.role is not Role.LEADER:
            return []  # a follower leaving changes nothing for the others
        sends = self._to_all(Resign(self.name, self.term))
        log.info("%s resigned as leader at term %d", self.name, self.term)
        self.become_follower(None, now)
        return sends

    # --8<-- [end:resign]

    def ready(self, messages: list[Send]) -> Ready:
        """Bully keeps nothing across a restart: there is never a hard state to persist."""
        return Ready(None, messages)

    # -- one handler per message kind ----------------------------------------------------

    # --8<-- [start:handlers]
    def on_heartbeat(self, message: Heartbeat, now: float) -> list[Send]:
        return self._from_a_leader(message, now)

    def on_victory(self, message: Victory, now: float) -> list[Send]:
        return self._from_a_leader(message, now)

    def on_election(self, message: Election, now: float) -> list[Send]:
        if outranks(message.sender, self.name):
            return []  # elections only go up the ranks; nothing to do with this one
        replies = [Send(message.sender, Answer(self.name, self.term))]
        if self.role is Role.LEADER:  # still in charge: say so
            return [*replies, Send(message.sender, Victory(self.name, self.term))]
        if self.term > message.term or self.leader is not None:
            return replies  # a stale election: our answer's term (or our leader) catches it up
        return replies + self.become_candidate(now)

    def on_join(self, message: Join, now: float) -> list[Send]:
        if message.sender not in self.listed:  # our registry view may lag: count it now
            self.joiners[message.sender] = now + self.config.join_grace
            self.peers |= {message.sender}
        if self.role is Role.LEADER:
            return [Send(message.sender, Heartbeat(self.name, self.term))]
        if message.term < self.term:  # a newcomer (or a restarted node) learns the term
            return [Send(message.sender, NewerTerm(self.name, self.term, self.leader))]
        return []

    def on_answer(self, message: Answer, now: float) -> list[Send]:
        if self.role is Role.CANDIDATE and message.term == self.term and not self.answered:
            log.debug("%s was answered by %s; waiting for its victory", self.name, message.sender)
            self.answered = True
            self.deadline = now + self.config.victory_timeout
        return []

    def on_newer_term(self, message: NewerTerm, now: float) -> list[Send]:
        # Adopting the term already made us step down; follow the leader we were told of.
        told_of = message.leader
        if told_of not in (None, self.name) and message.term == self.term and self.leader is None:
            self.become_follower(told_of, now)
        return []

    def on_resign(self, message: Resign, now: float) -> list[Send]:
        if message.sender != self.leader or message.term != self.term:
            return []  # only our own leader, at our term, can hand over
        remaining = self.peers - {message.sender}
        if any(outranks(peer, self.name) for peer in remaining):
            self.become_follower(None, now)  # a higher node takes over: wait for its Victory
            return []
        return self.become_candidate(now)  # we rank highest of those left: take over now

    def _from_a_leader(self, message: Heartbeat | Victory, now: float) -> list[Send]:
        if message.term < self.term:  # a leader from the past: tell it
            return [Send(message.sender, NewerTerm(self.name, self.term, self.leader))]
        if self.role is Role.LEADER and not outranks(message.sender, self.name):
            return []  # two leaders in one term: the lower one yields when it hears us
        if self.leader == message.sender and self.role is Role.FOLLOWER:
            self.deadline = self._leader_deadline(now)  # the usual heartbeat
        else:
            self.become_follower(message.sender, now)
        return []

    # --8<-- [end:handlers]

    # -- role changes: exactly one place each, one log line each ------------------------

    # --8<-- [start:roles]
    def become_follower(self, leader: str | None, now: float) -> None:
        self.role, self.leader, self.answered = Role.FOLLOWER, leader, False
        self.deadline = self._leader_deadline(now)
        if leader is None:
            log.info("%s became follower at term %d (leader unknown)", self.name, self.term)
        else:
            log.info("%s became follower of %s at term %d", self.name, leader, self.term)

    def become_candidate(self, now: float) -> list[Send]:
        if self.term >= MAX_TERM:  # refused, never wrapped: terms only grow
            log.error("%s cannot start an election: term %d is the last", self.name, self.term)
            self.become_follower(self.leader, now)
            return []
        self.term += 1
        self.role, self.leader, self.answered = Role.CANDIDATE, None, False
        self.deadline = now + self.config.answer_timeout
        higher = sorted(peer for peer in self.peers if outranks(peer, self.name))
        asked = ", ".join(higher) or "nobody (no higher peer)"
        log.info("%s became candidate at term %d, asking %s", self.name, self.term, asked)
        # Even with nobody to ask, wait answer_timeout before winning: a node just back
        # from a pause may be catching up on messages, and one of them may be the
        # Victory of a leader already chosen for this very term.
        return [Send(peer, Election(self.name, self.term)) for peer in higher]

    def become_leader(self, now: float) -> list[Send]:
        self.role, self.leader, self.answered = Role.LEADER, self.name, False
        self.deadline = now + self.config.heartbeat_interval
        log.info("%s became leader at term %d", self.name, self.term)
        return self._to_all(Victory(self.name, self.term))

    # --8<-- [end:roles]

    # -- helpers -------------------------------------------------------------------------

    def _adopt_term(self, term: int, now: float) -> None:
        assert term > self.term, "terms only grow"
        stepping_down = self.role is not Role.FOLLOWER
        self.term = term
        if stepping_down:
            self.become_follower(None, now)
        else:
            self.leader = None  # whoever led the old term does not lead this one

    def _forget_joiners(self, now: float) -> None:
        """Unlisted Join senders whose grace ran out stop counting as peers."""
        expired = {name for name, until in self.joiners.items() if until <= now}
        for name in expired:
            del self.joiners[name]
        self.peers -= expired
        log.debug("%s stopped counting %d unlisted joiner(s)", self.name, len(expired))

    def _leader_deadline(self, now: float) -> float:
        return now + self.config.leader_timeout * (1 + self.config.jitter * self.rng.random())

    def _to_all(self, message: Message) -> list[Send]:
        return [Send(peer, message) for peer in sorted(self.peers)]
