"""Majority vote: Raft's leader election without the log, as a pure state machine.

Pure, like :mod:`~stages.v2_1_election.bully`: time and randomness are handed in, and
each verb returns the messages to send. The roles are etcd's: each has its own step
function (``step_follower``, ``step_candidate``, ``step_leader``), and exactly one
``become_*`` method switches to it and logs one line. What the rules act on, and the
hooks where a replicated log (v3.0) plugs in, are in :mod:`~.quorum_state`.

The rules, in one place:

* **Terms** (the generation clock): a message from a newer term makes anyone adopt
  that term and become a follower; a message from an older term is answered with
  the current term, so its sender catches up.
* **One vote per term**: a node grants at most one RequestVote per term, and its
  ``ready`` hands the term and vote to the driver, which keeps them on disk before
  the answer leaves (etcd's ``Ready``: persist, then send).
* **A majority of the voters, by name**: a candidate wins with votes from more than
  half of the configured ``voters`` (itself included), and only their votes count
  (:mod:`~stages.v2_1_election.majority`). The set is configuration, not whatever
  the registry lists at the moment: two sides of a partition can never both hold a
  majority of the same names, and a node started outside the set changes nothing.
* **Non-voters follow, and only follow**: a node not in ``voters`` never campaigns
  and never grants a vote; a voter refuses to vote for it and ignores its heartbeats,
  acks and votes (one warning per sender), so it can neither lead nor disturb a term.
* **Randomised timeouts**: a follower waits a random time in ``[T, 2T)`` for a
  heartbeat (``T = election_timeout``); the leader heartbeats every interval.
* **PreVote**: a node that has heard no leader first asks, without raising its term,
  whether it *could* win (a RequestVote with ``pre_vote``, for ``term + 1``). Only a
  majority of yes starts a real election. A node that heard from its leader within
  ``T`` says no, and ignores real vote requests from newer terms too (the leader is
  alive), so a node back from a partition cannot depose a healthy leader.
* **CheckQuorum**: a leader that has not heard from a majority (acks to its
  heartbeats) within ``T`` steps down: cut off in a minority, it stops claiming to lead.
* **Nothing from outside is taken on trust**: a message "from" this very node is
  ignored, and a term never passes :data:`MAX_TERM`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from stages.v2_1_election.core import Role, Send, cannot_be_real
from stages.v2_1_election.messages import (
    MAX_TERM,
    Heartbeat,
    HeartbeatAck,
    Message,
    RequestVote,
    Vote,
)
from stages.v2_1_election.quorum_config import QuorumConfig
from stages.v2_1_election.quorum_state import MESSAGES, QuorumState

__all__ = ["MESSAGES", "QuorumConfig", "QuorumElector"]

log = logging.getLogger(__name__)


class QuorumElector(QuorumState):
    """One node's view of a majority-vote election. Drive it like the Bully core."""

    # -- the verbs -----------------------------------------------------------------------

    # --8<-- [start:tick]
    def tick(self, now: float) -> list[Send]:
        """Let time pass: a leader heartbeats (or steps down); anyone else campaigns."""
        if now < self.deadline:
            return []
        if not self.voter:
            return self.tick_non_voter(now)
        if self.role is Role.LEADER:
            if self.config.check_quorum and not self._hears_a_majority(now):
                log.info("%s has not heard from a majority for %.2fs", self.name, self._t)
                self.become_follower(None, now)
                return []
            self.deadline = now + self.config.heartbeat_interval
            return self._heartbeats(sorted(self.peers))
        log.info("%s heard from no leader at term %d; campaigning", self.name, self.term)
        if self.config.pre_vote:
            return self.become_pre_candidate(now)
        return self.become_candidate(now)

    # --8<-- [end:tick]

    # --8<-- [start:receive]
    def receive(self, message: Message, now: float) -> list[Send]:
        """The term rules, then the current role's step function."""
        if cannot_be_real(self.name, message):
            return []
        if not self.config.counts(message.sender):
            return self.from_non_voter(message, now)
        if message.term > self.term:
            if isinstance(message, RequestVote) and self._in_lease(now):
                return self.refuse(message)  # our leader is alive: no newer term disturbs it
            if not _asks_or_grants_a_pre_vote(message):  # those carry a term not yet real
                self._adopt_term(message, now)
        elif message.term < self.term:
            return self.on_stale(message)
        return self.step(message, now)

    # --8<-- [end:receive]

    def set_peers(self, names: Iterable[str], now: float) -> list[Send]:
        """Addresses from the registry; the voters stay the configured set, whatever it lists.
        A leader heartbeats every peer, voter or not: a non-voter follows it too."""
        peers = frozenset(names) - {self.name}
        joined = sorted(peers - self.peers)
        self.peers = peers
        if self.role is Role.LEADER:  # tell newcomers at once who leads
            return self._heartbeats(joined)
        return []

    def resumed(self, now: float) -> list[Send]:
        """Back from a pause: give the leader two heartbeat intervals to be heard. A leader
        needs no grace: its next tick counts the acks, and steps down if they are old."""
        if self.role is not Role.LEADER:
            self.deadline = max(self.deadline, now + 2 * self.config.heartbeat_interval)
        return []

    def resign(self, now: float) -> list[Send]:
        """Shutting down. No hand-off here (Raft's leadership transfer would be one): a
        leader just stops, and its followers elect another after their election timeout."""
        return []

    # -- one step function per role ---------------------------------------------------

    # --8<-- [start:steps]
    def step_follower(self, message: Message, now: float) -> list[Send]:
        match message:
            case Heartbeat():
                return self.on_heartbeat(message, now)
            case RequestVote():
                return self.on_request_vote(message, now)
        return []  # a vote or an ack meant for a role we no longer have

    def step_candidate(self, message: Message, now: float) -> list[Send]:
        """Pre-candidates and candidates: count votes; a leader of this term wins."""
        match message:
            case Heartbeat():
                self.become_follower(message.sender, now)
                return self.on_heartbeat(message, now)
            case RequestVote():
                return self.on_request_vote(message, now)
            case Vote():
                return self.on_vote(message, now)
        return []

    def step_leader(self, message: Message, now: float) -> list[Send]:
        match message:
            case HeartbeatAck():
                return self.on_heartbeat_ack(message, now)
            case RequestVote():
                return self.on_request_vote(message, now)  # always no: we lead this term
            case Heartbeat():
                log.error("%s: %s also leads term %d", self.name, message.sender, self.term)
        return []

    # --8<-- [end:steps]

    # -- one handler per message kind ----------------------------------------------------

    # --8<-- [start:handlers]
    def on_heartbeat(self, message: Heartbeat, now: float) -> list[Send]:
        if self.leader != message.sender:
            self.become_follower(message.sender, now)
        self.leader_heard_at = now
        self.deadline = self._election_deadline(now)
        return [Send(message.sender, self.heartbeat_reply(message, now))]

    def on_request_vote(self, message: RequestVote, now: float) -> list[Send]:
        if not self.voter:  # a non-voter's vote would count for nothing: it never gives one
            return self.refuse(message)
        if message.pre_vote:  # would we vote for it in the term it asks about?
            granted = message.term > self.term and not self._in_lease(now)
            granted = granted and self.log_is_up_to_date(message)
            term = message.term if granted else self.term
        else:  # the vote rule: one per term, first come first served
            granted = self.voted_for in (None, message.sender) and self.log_is_up_to_date(message)
            term = self.term
            if granted:
                self.voted_for = message.sender  # ready() hands it out: kept before the reply
                self.deadline = self._election_deadline(now)  # give it time to win
                log.info("%s voted for %s at term %d", self.name, message.sender, self.term)
        reply = Vote(self.name, term, granted=granted, pre_vote=message.pre_vote)
        return [Send(message.sender, reply)]

    def on_vote(self, message: Vote, now: float) -> list[Send]:
        pre_vote = self.role is Role.PRE_CANDIDATE
        wanted = self.term + 1 if pre_vote else self.term
        if message.pre_vote != pre_vote or message.term != wanted or not message.granted:
            return []  # a no, or an answer to an earlier round
        self.votes.add(message.sender)
        return self._count_votes(now)

    def on_stale(self, message: Message) -> list[Send]:
        """A message from an older term: say which term it is now, if a reply is expected."""
        if isinstance(message, Heartbeat):  # a deposed leader: our ack's term stops it
            return [Send(message.sender, HeartbeatAck(self.name, self.term))]
        if isinstance(message, RequestVote):
            return self.refuse(message)
        return []

    def refuse(self, message: RequestVote) -> list[Send]:
        """No, with our term: a newer sender learns nothing, an older one catches up."""
        return [Send(message.sender, Vote(self.name, self.term, pre_vote=message.pre_vote))]

    def from_non_voter(self, message: Message, now: float) -> list[Send]:
        """A node outside the voters: a vote request gets a no (its term changes nothing
        here); its acks go to a hook, and count for no majority. Acks and refusals are what
        a non-voter sends; a heartbeat, a yes or a vote request: it believes it votes."""
        if isinstance(message, HeartbeatAck):
            return self.on_non_voter_ack(message, now)
        if isinstance(message, Vote) and not message.granted:
            return []  # a non-voter's no to a vote request
        if message.sender not in self.ignored:
            self.ignored.add(message.sender)
            log.warning(
                "%s ignores a %s from %s: it is not a voter (the voters are %s), so it may "
                "only follow; is it started with another --voters list?",
                self.name,
                message.kind,
                message.sender,
                self.voters,
            )
        if isinstance(message, RequestVote):
            return self.refuse(message)
        return []

    def tick_non_voter(self, now: float) -> list[Send]:
        """A non-voter never campaigns: when its leader falls silent, it only forgets it."""
        if self.leader is not None and not self._in_lease(now):
            self.become_follower(None, now)
        self.deadline = self._election_deadline(now)
        return []

    # --8<-- [end:handlers]

    # -- role changes: exactly one place each, one log line each ------------------------

    # --8<-- [start:roles]
    def become_follower(self, leader: str | None, now: float) -> None:
        self.role, self.leader, self.step = Role.FOLLOWER, leader, self.step_follower
        self.votes = set()
        self.deadline = self._election_deadline(now)
        if leader is None:
            log.info("%s became follower at term %d (leader unknown)", self.name, self.term)
        else:
            self.leader_heard_at = now
            log.info("%s became follower of %s at term %d", self.name, leader, self.term)

    def become_pre_candidate(self, now: float) -> list[Send]:
        self.role, self.leader, self.step = Role.PRE_CANDIDATE, None, self.step_candidate
        self.votes = {self.name}
        self.deadline = self._election_deadline(now)
        log.info("%s became pre-candidate at term %d", self.name, self.term)
        ask = self.request_vote(self.term + 1, pre_vote=True)
        return self._to_all(ask) + self._count_votes(now)

    def become_candidate(self, now: float) -> list[Send]:
        if self.term >= MAX_TERM:  # refused, never wrapped: terms only grow
            log.error("%s cannot start an election: term %d is the last", self.name, self.term)
            self.become_follower(None, now)
            return []
        self.term, self.voted_for = self.term + 1, self.name  # kept before the requests leave
        self.role, self.leader, self.step = Role.CANDIDATE, None, self.step_candidate
        self.votes = {self.name}
        self.deadline = self._election_deadline(now)
        log.info("%s became candidate at term %d", self.name, self.term)
        ask = self.request_vote(self.term, pre_vote=False)
        return self._to_all(ask) + self._count_votes(now)

    def become_leader(self, now: float) -> list[Send]:
        self.role, self.leader, self.step = Role.LEADER, self.name, self.step_leader
        self.acked_at = {voter: now for voter in self.votes - {self.name}}
        self.deadline = now + self.config.heartbeat_interval
        log.info("%s became leader at term %d", self.name, self.term)
        return self._heartbeats(sorted(self.peers))

    # --8<-- [end:roles]

    # -- helpers -------------------------------------------------------------------------

    def _count_votes(self, now: float) -> list[Send]:
        if not self.config.has_quorum(self.votes):
            return []
        if self.role is Role.PRE_CANDIDATE:
            return self.become_candidate(now)
        return self.become_leader(now)

    def _adopt_term(self, message: Message, now: float) -> None:
        self.term, self.voted_for = message.term, None
        self.become_follower(message.sender if isinstance(message, Heartbeat) else None, now)


def _asks_or_grants_a_pre_vote(message: Message) -> bool:
    """A pre-vote request, and a yes to one, name a term nobody has entered yet."""
    if isinstance(message, RequestVote):
        return message.pre_vote
    return isinstance(message, Vote) and message.pre_vote and message.granted
