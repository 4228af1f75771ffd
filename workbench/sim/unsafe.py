"""v3.0's log core, and the unsafe shortcuts the simulator must catch: the simulator's only.

Each shortcut is one rule taken out, and named as ``--unsafe`` names it:

* ``commit-old-term``: the leader commits the highest index a majority stores, whatever
  its term (Raft's Figure 8: a later leader may overwrite it);
* ``no-log-check-on-vote``: a node votes for any candidate, up to date or not (§5.4.1);
* ``ack-before-sync``: the driver sends and applies before its disk has what the core
  asked it to persist, so a crash loses entries the node already acknowledged. This one
  is the driver's (:mod:`~workbench.sim.logsim`), not the core's.
"""

from __future__ import annotations

import random

from stages.v2_1_election.core import HardState
from stages.v2_1_election.messages import RequestVote
from stages.v2_1_election.quorum_config import QuorumConfig
from stages.v3_replicated_log.messages import Entry
from stages.v3_replicated_log.raft import RaftCore

UNSAFE = {
    "commit-old-term": "commit an entry of an earlier term by counting replicas (Figure 8)",
    "no-log-check-on-vote": "vote for a candidate whatever its log (no election restriction)",
    "ack-before-sync": "send and apply before the disk has synced what the core persisted",
}


# --8<-- [start:shortcuts]
class CommitOldTerm(RaftCore):
    def _advance_commit(self) -> None:
        stored = {**self.match_index, self.name: self.log.last_index}
        self.commit_index = max(self.commit_index, self.config.majority.committed_index(stored))


class NoLogCheckOnVote(RaftCore):
    def log_is_up_to_date(self, message: RequestVote) -> bool:
        return True


# --8<-- [end:shortcuts]


class CommitOldTermNoLogCheck(CommitOldTerm, NoLogCheckOnVote):
    pass


def core_class(unsafe: tuple[str, ...]) -> type[RaftCore]:
    """The core with the rules ``unsafe`` takes out (both of a core's, if both are named)."""
    old, vote = "commit-old-term" in unsafe, "no-log-check-on-vote" in unsafe
    if old and vote:
        return CommitOldTermNoLogCheck
    return CommitOldTerm if old else NoLogCheckOnVote if vote else RaftCore


def new_core(
    unsafe: tuple[str, ...],
    name: str,
    config: QuorumConfig,
    rng: random.Random,
    now: float,
    restored: HardState,
    entries: list[Entry],
) -> RaftCore:
    return core_class(unsafe)(name, config, rng, now, restored, entries)
