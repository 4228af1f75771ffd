"""Bully's settings: the election's timings, in seconds, and what they imply.

The defaults fail over in under a second; timings that cannot work together are
refused before a node starts (:class:`~.core.ConfigError`).
"""

from __future__ import annotations

from dataclasses import dataclass

from stages.v2_1_election.core import ConfigError, Timings


# --8<-- [start:config]
@dataclass(frozen=True)
class ElectionConfig:
    """The election's timings, in seconds. The defaults fail over in under a second."""

    heartbeat_interval: float = 0.1  # leader -> followers
    leader_timeout: float = 0.5  # five missed heartbeats, as in the original
    answer_timeout: float = 0.2  # how long a candidate waits for a higher node to answer
    victory_timeout: float = 0.5  # how long an answered candidate waits for the Victory
    jitter: float = 0.2  # followers wait leader_timeout * (1 + up to jitter), at random

    @property
    def join_grace(self) -> float:
        """How long a Join's sender counts as a peer before the registry lists it.

        A node looks at the registry twice per ``leader_timeout``, so a real newcomer
        is listed well within this; a made-up name drops out after it.
        """
        return 4 * self.leader_timeout

    def __post_init__(self) -> None:
        for field in ("heartbeat_interval", "leader_timeout", "answer_timeout", "victory_timeout"):
            if not getattr(self, field) > 0:
                raise ConfigError(f"{field} must be greater than 0, not {getattr(self, field)}")
        if not 0 <= self.jitter <= 1:
            raise ConfigError(f"jitter must be between 0 and 1, not {self.jitter}")
        if self.leader_timeout < 3 * self.heartbeat_interval:
            raise ConfigError(
                f"leader_timeout ({self.leader_timeout}s) must be at least 3 times "
                f"heartbeat_interval ({self.heartbeat_interval}s), or one late heartbeat "
                "would start an election"
            )
        if self.victory_timeout < self.answer_timeout:
            raise ConfigError(
                f"victory_timeout ({self.victory_timeout}s) must be at least answer_timeout "
                f"({self.answer_timeout}s): the node that answered needs that long to win"
            )

    def timings(self) -> Timings:
        """What the node and the simulator need to know (see :class:`~.core.Timings`).

        Once the faults stop, a follower notices its leader is gone within
        ``leader_timeout * (1 + jitter)``; the election then takes at most
        ``answer_timeout`` (nobody above answers) plus ``victory_timeout`` (somebody
        did, and its own election runs); 0.1 s covers latency and the 10 ms tick.
        """
        detect = self.leader_timeout * (1 + self.jitter)
        return Timings(
            heartbeat_interval=self.heartbeat_interval,
            message_timeout=self.answer_timeout,
            leader_timeout=self.leader_timeout,
            liveness_bound=round(detect + self.answer_timeout + self.victory_timeout + 0.1, 6),
        )


# --8<-- [end:config]
