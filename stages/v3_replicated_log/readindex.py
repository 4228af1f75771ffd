"""Linearizable reads without writing to the log: Raft's ReadIndex (§6.4), as a pure addition.

A leader may not answer a read from its own state on its word alone: a newer leader may
already have been elected on the other side of a partition, and have taken writes that
this one has never seen. Writing every read to the log would settle it, at the price of
a disk sync per read. ReadIndex settles it with one round of heartbeats instead:

1. the leader records its commit index as the read's *read index*: every write
   acknowledged before the read arrived is at or below it;
2. it numbers a new heartbeat *round*, and sends it (its AppendEntries carry the round's
   number, and each follower's reply echoes it);
3. once a majority of the voters (itself included) have answered that round, or a later
   one, in its term, it was still the leader after the read arrived: no newer leader can
   have committed anything it lacks. The read is confirmed;
4. the node answers once its state machine has applied the read index (the driver waits).

One more rule (§8): a new leader does not know which entries of earlier terms are
committed until it has committed one of its own term, its no-op; its commit index may lag
behind. A read that arrives before then takes as its read index the commit index at the
moment the no-op commits, and is confirmed no sooner.

:class:`ReadIndexCore` also takes the commit index its storage kept (a hint: never ahead of
what was committed), so that a restarted node hands out its committed entries at once and
rebuilds its state machine before it hears from a leader.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass

from stages.v2_1_election.core import HardState, Role, Send
from stages.v2_1_election.messages import Heartbeat, HeartbeatAck, Message, Vote
from stages.v2_1_election.quorum_config import QuorumConfig
from stages.v3_replicated_log.messages import (
    AppendEntries,
    AppendEntriesReply,
    Entry,
    LogRequestVote,
)
from stages.v3_replicated_log.raft import LogReady, NotLeader, RaftCore

log = logging.getLogger(__name__)


# --8<-- [start:messages]
@dataclass(frozen=True)
class RoundAppendEntries(AppendEntries):
    """An AppendEntries that names the leader's heartbeat round (0: none asked for)."""

    round: int = 0


@dataclass(frozen=True)
class RoundReply(AppendEntriesReply):
    """An AppendEntriesReply that echoes the round of the AppendEntries it answers."""

    round: int = 0


MESSAGES: tuple[type[Message], ...] = (RoundAppendEntries, RoundReply, LogRequestVote, Vote)


@dataclass(frozen=True)
class Waiting:
    """A read the leader has not confirmed yet: its round, and its read index (None until
    the leader has committed an entry of its term)."""

    read: int
    round: int
    index: int | None


@dataclass(frozen=True)
class ReadState:
    """A read the leader has confirmed: serve it once ``index`` is applied."""

    read: int  # the driver's number for it
    index: int


@dataclass(frozen=True)
class ReadReady(LogReady):
    """:class:`~.raft.LogReady` plus the reads confirmed since the last ``ready``."""

    reads: tuple[ReadState, ...] = ()


# --8<-- [end:messages]


class ReadIndexCore(RaftCore):
    """:class:`~.raft.RaftCore` with ReadIndex reads, and a restored commit index."""

    messages = MESSAGES

    def __init__(
        self,
        name: str,
        config: QuorumConfig,
        rng: random.Random,
        now: float,
        restored: HardState | None = None,
        entries: Iterable[Entry] = (),
        commit: int = 0,
    ) -> None:
        super().__init__(name, config, rng, now, restored, entries)
        self.commit_index = min(commit, self.log.last_index)  # the next ready replays them
        self.round = 0  # leader: the last heartbeat round it numbered
        self.answered: dict[str, int] = {}  # leader: the latest round each peer answered
        self.waiting: list[Waiting] = []  # leader: reads not yet confirmed
        self.confirmed: list[ReadState] = []  # for the next ready

    # --8<-- [start:read]
    def read(self, read: int, now: float) -> list[Send]:
        """Start confirming read number ``read`` (the driver's): a new heartbeat round. A
        node that does not lead raises :class:`~.raft.NotLeader`. The read comes back in a
        later ``ready``'s ``reads``, with its read index, or never if leadership is lost."""
        if self.role is not Role.LEADER:
            raise NotLeader(self.name, self.leader)
        self.round += 1
        index = self.commit_index if self._committed_in_term() else None
        self.waiting.append(Waiting(read, self.round, index))
        sends = self._heartbeats(sorted(self.peers))
        self._confirm_reads()  # a cluster of one needs no answer
        return sends

    def _confirm_reads(self) -> None:
        """Confirm every waiting read whose round a majority has answered, once this
        leader has committed an entry of its own term (its no-op)."""
        if not self.waiting or not self._committed_in_term():
            return
        answered = max((w.round for w in self.waiting if self._has_a_majority(w.round)), default=0)
        still = []
        for waiting in self.waiting:
            index = self.commit_index if waiting.index is None else waiting.index
            if waiting.round <= answered:
                self.confirmed.append(ReadState(waiting.read, index))
            else:
                still.append(Waiting(waiting.read, waiting.round, index))
        self.waiting = still

    def _committed_in_term(self) -> bool:
        return self.log.term_at(self.commit_index) == self.term

    def _has_a_majority(self, round_: int) -> bool:
        answered = {peer for peer, latest in self.answered.items() if latest >= round_}
        return self.config.has_quorum({self.name} | answered)

    # --8<-- [end:read]

    def ready(self, messages: list[Send]) -> ReadReady:
        base = super().ready(messages)
        reads, self.confirmed = tuple(self.confirmed), []
        return ReadReady(base.hard_state, base.messages, base.entries, base.committed, reads)

    # -- the round travels in the log's messages -----------------------------------------

    def heartbeat_to(self, peer: str) -> Heartbeat:
        sent = super().heartbeat_to(peer)
        assert isinstance(sent, AppendEntries)
        return RoundAppendEntries(
            sent.sender, sent.term, sent.prev_index, sent.prev_term, sent.entries,
            sent.leader_commit, round=self.round,
        )  # fmt: skip

    def on_append_entries(self, message: AppendEntries) -> AppendEntriesReply:
        reply = super().on_append_entries(message)
        return RoundReply(
            reply.sender, reply.term, reply.success, reply.match_index, reply.conflict_term,
            reply.conflict_index, round=getattr(message, "round", 0),
        )  # fmt: skip

    def on_heartbeat_ack(self, message: HeartbeatAck, now: float) -> list[Send]:
        """Any answer of this term counts for the round it names (a refusal of entries too:
        the peer still takes this node for its leader)."""
        sends = super().on_heartbeat_ack(message, now)  # may commit: the no-op, say
        if isinstance(message, RoundReply):
            latest = self.answered.get(message.sender, 0)
            self.answered[message.sender] = max(latest, message.round)
        self._confirm_reads()
        return sends

    # -- role changes -------------------------------------------------------------------

    def become_leader(self, now: float) -> list[Send]:
        self.answered, self.waiting = {}, []
        return super().become_leader(now)

    def become_follower(self, leader: str | None, now: float) -> None:
        if self.waiting:
            log.info("%s dropped %d unconfirmed reads", self.name, len(self.waiting))
        self.waiting = []  # the driver answers them: this node no longer leads
        super().become_follower(leader, now)
