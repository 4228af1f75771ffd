"""What one majority-vote node knows, and the hooks where a replicated log plugs in.

The rules are in :mod:`~stages.v2_1_election.quorum`: :class:`~.quorum.QuorumElector`
builds on this state. Here is what they read and write (term, vote, role, peers, votes,
acks), what the driver must keep (``ready``), the timers' arithmetic, and the *hooks*:
methods that say what a log changes in an election. Without a log (v2.1) a candidate
asks with its term alone, every candidate's log is up to date, and the leader's
heartbeat is a plain Heartbeat; Raft's log (v3.0) overrides them in a subclass.

Pure, like the rules: no clock, no I/O, randomness from the ``rng`` handed in.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from stages.v2_1_election.core import HardState, Ready, Role, Send, Timings
from stages.v2_1_election.messages import Heartbeat, HeartbeatAck, Message, RequestVote, Vote
from stages.v2_1_election.quorum_config import QuorumConfig

MESSAGES: tuple[type[Message], ...] = (Heartbeat, HeartbeatAck, RequestVote, Vote)  # on the wire


class QuorumState:
    """One node's state in a majority-vote election; :class:`~.quorum.QuorumElector` acts on it."""

    algorithm = "quorum"
    messages = MESSAGES
    step: Callable[[Message, float], list[Send]]  # the current role's step function
    step_follower: Callable[[Message, float], list[Send]]  # the first one (the rules define it)

    def __init__(
        self,
        name: str,
        config: QuorumConfig,
        rng: random.Random,
        now: float,
        restored: HardState | None = None,
    ) -> None:
        self.name, self.config, self.rng = name, config, rng
        self.voters = config.majority
        # A voter campaigns, votes and counts; anyone else only follows (unless the
        # old count is switched back on, when every node is a voter of a mere count).
        self.voter = config.counts(name)
        self.ignored: set[str] = set()  # non-voters already warned about, once each
        self.kept = restored or HardState()  # what the driver keeps: promised before a restart
        self.term, self.voted_for = self.kept
        self.role = Role.FOLLOWER
        self.leader: str | None = None
        self.peers: frozenset[str] = frozenset()
        self.votes: set[str] = set()  # candidate: who said yes this round
        self.acked_at: dict[str, float] = {}  # leader: when each follower last answered
        self.leader_heard_at = float("-inf")  # follower: when its leader was last heard
        self.step = self.step_follower
        self.deadline = self._election_deadline(now)

    @property
    def timings(self) -> Timings:
        return self.config.timings()

    # --8<-- [start:ready]
    def ready(self, messages: list[Send]) -> Ready:
        """A verb's messages, after the term and vote if they changed since the driver last
        had them: it keeps those on disk first, so no Vote counts before it is kept."""
        state = HardState(self.term, self.voted_for)
        changed, self.kept = state != self.kept, state
        return Ready(state if changed else None, messages)

    # --8<-- [end:ready]

    # -- hooks: where a replicated log plugs in (a subclass overrides them) --------------

    # --8<-- [start:hooks]
    def request_vote(self, term: int, pre_vote: bool) -> RequestVote:
        """Hook: what a (pre-)candidate asks its peers. Raft adds its log's last index and
        term (a subclass of RequestVote); without a log, who asks and for which term."""
        return RequestVote(self.name, term, pre_vote=pre_vote)

    def log_is_up_to_date(self, message: RequestVote) -> bool:
        """Hook: is the candidate's log at least as up to date as ours? If not, Raft grants
        neither a vote nor a pre-vote, so only a node with every committed entry can win.
        Without a log, every candidate's is."""
        return True

    def heartbeat_to(self, peer: str) -> Heartbeat:
        """Hook: what the leader sends ``peer`` every heartbeat interval, and a newcomer at
        once. Raft sends AppendEntries (a subclass of Heartbeat, so that followers take it
        as one) with the entries that peer lacks; here, a plain Heartbeat."""
        return Heartbeat(self.name, self.term)

    def heartbeat_reply(self, message: Heartbeat, now: float) -> Message:
        """Hook: a follower heard its leader (the term rules have run, its timer is reset);
        its answer. Raft appends the entries and says whether they matched its log; here a
        HeartbeatAck, what CheckQuorum counts."""
        return HeartbeatAck(self.name, self.term)

    def on_heartbeat_ack(self, message: HeartbeatAck, now: float) -> list[Send]:
        """Hook: the leader hears a follower's answer. CheckQuorum notes when; Raft also
        moves that follower's match index and the commit index, and sends what it lacks."""
        self.acked_at[message.sender] = now
        return []

    def on_non_voter_ack(self, message: HeartbeatAck, now: float) -> list[Send]:
        """Hook: the leader hears a non-voter's answer, which CheckQuorum must not count:
        nothing to do. Raft keeps that node's copy of the log in step with it, and counts
        it for no commit (a majority is of the voters)."""
        return []

    # --8<-- [end:hooks]

    # -- the timers, and who hears whom ---------------------------------------------------

    def _in_lease(self, now: float) -> bool:
        """Do we know of a live leader? (A leader is its own; a follower heard it within T.)"""
        if self.role is Role.LEADER:
            return True
        return self.leader is not None and now - self.leader_heard_at < self._t

    def _hears_a_majority(self, now: float) -> bool:
        recent = {node for node, at in self.acked_at.items() if now - at < self._t}
        return self.config.has_quorum({self.name} | recent)

    @property
    def _t(self) -> float:
        return self.config.election_timeout

    def _election_deadline(self, now: float) -> float:
        return now + self._t * (1 + self.rng.random())

    def _to_all(self, message: Message) -> list[Send]:
        return [Send(peer, message) for peer in sorted(self.peers)]

    def _heartbeats(self, peers: Iterable[str]) -> list[Send]:
        return [Send(peer, self.heartbeat_to(peer)) for peer in peers]
