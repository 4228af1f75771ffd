"""Raft's log replication on v2.1's majority vote, as a pure state machine.

:class:`RaftCore` is v2.1's :class:`~stages.v2_1_election.quorum.QuorumElector` with a
log plugged into the hooks that class offers (:mod:`~stages.v2_1_election.quorum_state`);
the election rules (terms, one vote per term, PreVote, CheckQuorum) are v2.1's, unchanged.
What the log adds:

* **Replication**: the leader's heartbeat is an :class:`~.messages.AppendEntries` with the
  entries a follower lacks (up to :data:`~.messages.MAX_BATCH` at once); a proposal sends
  at once, without waiting for a tick. The leader sends optimistically (``next_index``
  moves past what it sent); a follower that cannot match ``prev_index`` says so, with a
  hint that lets the leader back up a whole term at a time (6.5840's fast back-up).
* **Repair**: a follower cuts a suffix that conflicts with the leader's entries, and only
  that; an entry it already has is kept, so a late, reordered message cuts nothing.
* **The election restriction** (§5.4.1): no vote, nor pre-vote, for a candidate whose log
  is less up to date than ours. A new leader appends a no-op of its term.
* **The commit rule** (Figure 8): the highest index stored on a majority of the voters,
  and only if that entry is of the leader's current term.
* **Ready** (etcd's raft): after each verb, ``ready`` says what to persist (the entries
  from the first one that changed, and the hard state), then the messages, then the
  committed entries to apply, each handed out once, in log order.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass

from stages.v2_1_election.core import HardState, Ready, Role, Send
from stages.v2_1_election.messages import Heartbeat, HeartbeatAck, Message, RequestVote
from stages.v2_1_election.quorum import QuorumElector
from stages.v2_1_election.quorum_config import QuorumConfig
from stages.v3_replicated_log.log import Log
from stages.v3_replicated_log.messages import (
    MAX_BATCH,
    MAX_DATA,
    MESSAGES,
    AppendEntries,
    AppendEntriesReply,
    Entry,
    LogRequestVote,
)

log = logging.getLogger(__name__)


class NotLeader(Exception):
    """A proposal reached a node that does not lead; ``leader`` is whom it follows, if known."""

    def __init__(self, name: str, leader: str | None) -> None:
        super().__init__(f"{name} does not lead (leader: {leader or 'unknown'})")
        self.leader = leader


# --8<-- [start:ready]
@dataclass(frozen=True)
class LogReady(Ready):
    """v2.1's :class:`~stages.v2_1_election.core.Ready` with the log's two steps:

    1. persist ``entries`` (the driver cuts its log after ``entries[0].index - 1`` first)
       with ``hard_state``, and wait until both are on disk;
    2. send ``messages``;
    3. apply ``committed`` to the state machine, in order.
    """

    entries: tuple[Entry, ...] = ()
    committed: tuple[Entry, ...] = ()


# --8<-- [end:ready]


class RaftCore(QuorumElector):
    """One node of a Raft cluster: v2.1's elector, with a log, a commit index and an applier."""

    algorithm = "raft"
    messages = MESSAGES

    def __init__(
        self,
        name: str,
        config: QuorumConfig,
        rng: random.Random,
        now: float,
        restored: HardState | None = None,
        entries: Iterable[Entry] = (),
    ) -> None:
        super().__init__(name, config, rng, now, restored)
        self.log = Log(entries)  # as the driver kept it: everything persisted before a crash
        self.commit_index = 0  # not kept: a restarted node learns it again from its leader
        self.applied = 0  # handed out for the state machine up to here
        self.unstable_from: int | None = None  # the first index changed since the last ready
        self.next_index: dict[str, int] = {}  # leader: the next entry to send each peer
        self.match_index: dict[str, int] = {}  # leader: what each peer is known to store

    # -- the verbs the log adds ------------------------------------------------------

    # --8<-- [start:propose]
    def propose(self, data: str, now: float) -> list[Send]:
        """The leader appends a command to its log and sends it at once; anyone else raises
        :class:`NotLeader`. Its index is ``log.last_index`` right after; a later ``ready``
        hands it out as committed once a majority of the voters store it (and the leader
        still leads: if not, it may be lost, and the client must ask again)."""
        if self.role is not Role.LEADER:
            raise NotLeader(self.name, self.leader)
        if len(data) > MAX_DATA:  # it could not travel: followers would refuse the message
            raise ValueError(f"a command has at most {MAX_DATA} characters, not {len(data)}")
        self._append([Entry(self.log.last_index + 1, self.term, data)])
        self._advance_commit()  # a cluster of one commits at once
        return self._heartbeats(sorted(self.peers))

    # --8<-- [end:propose]

    def ready(self, messages: list[Send]) -> LogReady:
        """What to persist, send and apply after a verb; each change is handed out once."""
        base = super().ready(messages)
        entries: tuple[Entry, ...] = ()
        if self.unstable_from is not None:
            entries = tuple(self.log.slice(self.unstable_from, self.log.last_index))
            self.unstable_from = None
        committed = tuple(self.log.slice(self.applied + 1, self.commit_index))
        self.applied = self.commit_index
        return LogReady(base.hard_state, base.messages, entries, committed)

    # -- v2.1's hooks, with a log -------------------------------------------------------

    # --8<-- [start:hooks]
    def request_vote(self, term: int, pre_vote: bool) -> RequestVote:
        return LogRequestVote(
            self.name, term, pre_vote, last_index=self.log.last_index, last_term=self.log.last_term
        )

    def log_is_up_to_date(self, message: RequestVote) -> bool:
        if not isinstance(message, LogRequestVote):
            return self.log.last_index == 0  # a candidate that names no log has none
        return self.log.up_to_date(message.last_index, message.last_term)

    def heartbeat_to(self, peer: str) -> Heartbeat:
        """The entries ``peer`` lacks, from its ``next_index``; then, optimistically, the
        next one after them (a rejection moves it back)."""
        next_index = self.next_index.setdefault(peer, self.log.last_index + 1)
        last = min(self.log.last_index, next_index + MAX_BATCH - 1)
        entries = tuple(self.log.slice(next_index, last))
        self.next_index[peer] = last + 1
        prev = next_index - 1
        return AppendEntries(
            self.name, self.term, prev, self.log.term_at(prev), entries, self.commit_index
        )

    def heartbeat_reply(self, message: Heartbeat, now: float) -> Message:
        if not isinstance(message, AppendEntries):
            return HeartbeatAck(self.name, self.term)
        return self.on_append_entries(message)

    def on_heartbeat_ack(self, message: HeartbeatAck, now: float) -> list[Send]:
        super().on_heartbeat_ack(message, now)  # CheckQuorum: heard from it
        if not isinstance(message, AppendEntriesReply):
            return []
        if message.success:
            return self.on_accepted(message)
        return self.on_rejected(message)

    def on_non_voter_ack(self, message: HeartbeatAck, now: float) -> list[Send]:
        """A non-voter's copy is repaired as a follower's is; ``_advance_commit`` counts
        only the voters, so its match index commits nothing."""
        if not isinstance(message, AppendEntriesReply) or message.term != self.term:
            return []
        if self.role is not Role.LEADER:
            return []
        return self.on_accepted(message) if message.success else self.on_rejected(message)

    # --8<-- [end:hooks]

    # -- the follower's side ------------------------------------------------------------

    # --8<-- [start:follower]
    def on_append_entries(self, message: AppendEntries) -> AppendEntriesReply:
        """Match ``prev_index``, cut what conflicts, append what is new, learn the commit."""
        prev = message.prev_index
        if prev > self.log.last_index:  # a gap: ask for what follows our last entry
            return self._reject(prev, 0, self.log.last_index + 1)
        if self.log.term_at(prev) != message.prev_term:  # a different history: skip its term
            return self._reject(prev, self.log.term_at(prev), self.log.first_index_of_term(prev))
        kept = 0  # the entries we already have (a late duplicate brings only those)
        while kept < len(message.entries) and self._have(message.entries[kept]):
            kept += 1
        new = list(message.entries[kept:])
        if new:
            if new[0].index <= self.log.last_index:
                log.info(
                    "%s cut its log after %d (term %d)", self.name, new[0].index - 1, self.term
                )
                self.log.truncate_after(new[0].index - 1)
            self._append(new)
        last_new = prev + len(message.entries)
        if message.leader_commit > self.commit_index:
            self.commit_index = max(self.commit_index, min(message.leader_commit, last_new))
        return AppendEntriesReply(self.name, self.term, success=True, match_index=last_new)

    def _have(self, entry: Entry) -> bool:
        return self.log.term_at(entry.index) == entry.term

    def _reject(self, prev: int, conflict_term: int, conflict_index: int) -> AppendEntriesReply:
        return AppendEntriesReply(self.name, self.term, False, prev, conflict_term, conflict_index)

    # --8<-- [end:follower]

    # -- the leader's side --------------------------------------------------------------

    # --8<-- [start:leader]
    def on_accepted(self, message: AppendEntriesReply) -> list[Send]:
        peer = message.sender
        if message.match_index <= self.match_index.get(peer, 0):
            return []  # a late duplicate: nothing new
        self.match_index[peer] = message.match_index
        self.next_index[peer] = max(self.next_index.get(peer, 1), message.match_index + 1)
        self._advance_commit()
        if self.next_index[peer] <= self.log.last_index:  # more than one batch behind
            return [Send(peer, self.heartbeat_to(peer))]
        return []

    def on_rejected(self, message: AppendEntriesReply) -> list[Send]:
        """Back up ``next_index`` past the conflict (a whole term at once) and resend."""
        peer = message.sender
        match = self.match_index.get(peer, 0)
        if message.match_index < match:
            return []  # about entries it has since accepted: stale
        back_to = message.conflict_index
        if message.conflict_term:
            ours = self.log.last_index_of_term(message.conflict_term)
            if ours is not None:
                back_to = ours + 1  # we share that term: resend from after our last of it
        self.next_index[peer] = max(match + 1, min(back_to, message.match_index))
        return [Send(peer, self.heartbeat_to(peer))]

    def _advance_commit(self) -> None:
        """Figure 8: commit the highest index a majority stores, if it is of our term."""
        stored = {**self.match_index, self.name: self.log.last_index}
        index = self.config.majority.committed_index(stored)
        if index > self.commit_index and self.log.term_at(index) == self.term:
            self.commit_index = index
            log.debug("%s committed up to %d at term %d", self.name, index, self.term)

    # --8<-- [end:leader]

    # -- role changes: v2.1's, plus what a log needs ----------------------------------

    # --8<-- [start:no_op]
    def become_leader(self, now: float) -> list[Send]:
        """v2.1's, after a no-op of the new term: it commits what earlier terms left."""
        self.next_index = {peer: self.log.last_index + 1 for peer in self.peers}
        self.match_index = {}
        self._append([Entry(self.log.last_index + 1, self.term)])
        sends = super().become_leader(now)
        self._advance_commit()
        return sends

    # --8<-- [end:no_op]

    def _append(self, entries: list[Entry]) -> None:
        first = entries[0].index
        self.log.extend(entries)
        self.unstable_from = first if self.unstable_from is None else min(self.unstable_from, first)
