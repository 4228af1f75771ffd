"""Majority vote's settings: the cluster's voters, by name, and the election's timings.

The configuration also answers the two questions the core asks of the voters: does
this sender count, and do these names hold a majority (:mod:`~.majority` counts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from stages.v2_1_election.core import ConfigError, Timings
from stages.v2_1_election.majority import MajorityConfig, VotersError


# --8<-- [start:config]
@dataclass(frozen=True)
class QuorumConfig:
    """The cluster's voters, by name, and the election's timings, in seconds."""

    voters: tuple[str, ...]  # who votes and counts, by configuration: n1, n2, n3
    heartbeat_interval: float = 0.1
    election_timeout: float = 0.5  # T: a follower waits a random time in [T, 2T)
    pre_vote: bool = True
    check_quorum: bool = True
    count_voters_only: bool = True  # False: the old count's bug, any node's vote counts (unsafe)

    def __post_init__(self) -> None:
        names = (self.voters,) if isinstance(self.voters, str) else tuple(self.voters)
        try:
            MajorityConfig.of(names)
        except VotersError as exc:
            raise ConfigError(f"voters: {exc}") from None
        object.__setattr__(self, "voters", tuple(sorted(names)))
        for field in ("heartbeat_interval", "election_timeout"):
            if not 0 < getattr(self, field) < float("inf"):
                raise ConfigError(f"{field} must be greater than 0, not {getattr(self, field)}")
        if self.election_timeout < 3 * self.heartbeat_interval:
            raise ConfigError(
                f"election_timeout ({self.election_timeout}s) must be at least 3 times "
                f"heartbeat_interval ({self.heartbeat_interval}s), or one late heartbeat "
                "would start an election"
            )

    @cached_property
    def majority(self) -> MajorityConfig:
        return MajorityConfig(frozenset(self.voters))

    def timings(self) -> Timings:
        """Detecting a dead leader takes up to 2T; a split vote costs another round of up
        to 2T (two are allowed for); CheckQuorum steps a cut-off leader down within T
        and a heartbeat interval; 0.1 s covers latency and the 10 ms tick."""
        t = self.election_timeout
        return Timings(
            heartbeat_interval=self.heartbeat_interval,
            message_timeout=2 * self.heartbeat_interval,
            leader_timeout=t,
            liveness_bound=round(2 * t + 2 * 2 * t + 0.1, 6),
            stale_leader_bound=round(t + self.heartbeat_interval + 0.1, 6),
        )

    # --8<-- [end:config]

    # --8<-- [start:quorum]
    def counts(self, node: str) -> bool:
        """Whether what ``node`` says (votes, acks, heartbeats) counts: it is a voter."""
        return node in self.majority or not self.count_voters_only

    def has_quorum(self, names: Iterable[str]) -> bool:
        """A majority of the voters among ``names``: of a set of names, not of a count."""
        if not self.count_voters_only:  # the old count: any names, however many nodes run
            return len(set(names)) >= self.majority.quorum
        return self.majority.has_quorum(names)

    # --8<-- [end:quorum]
