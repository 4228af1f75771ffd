"""The virtual network: how late each message arrives, whether it is lost or doubled, and
which nodes a partition keeps apart.

It decides a message's fate with its own seeded :class:`random.Random`; it never reads a
clock. Loss and duplication are faults, so they stop when the faults stop (``calm``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class NetworkError(ValueError):
    """Network settings that make no sense."""


# --8<-- [start:network]
@dataclass(frozen=True)
class NetworkConfig:
    """Latency is uniform between the two bounds (seconds); loss and duplication are odds."""

    min_latency: float = 0.001
    max_latency: float = 0.010
    drop: float = 0.0  # probability that a message is lost
    duplicate: float = 0.0  # probability that a message arrives twice

    def __post_init__(self) -> None:
        if not 0 < self.min_latency <= self.max_latency:
            raise NetworkError("latencies must satisfy 0 < min_latency <= max_latency")
        for name in ("drop", "duplicate"):
            if not 0 <= getattr(self, name) < 1:
                raise NetworkError(f"{name} must be at least 0 and less than 1")


class Network:
    def __init__(self, config: NetworkConfig, rng: random.Random) -> None:
        self.config = config
        self.rng = rng
        self.faulty = True  # loss and duplication apply until calm()
        self.group_of: dict[str, int] = {}  # node -> its side of a partition; empty if none

    def copies(self) -> list[tuple[float, bool]]:
        """A message's fate: for each copy (two if duplicated), its delay and whether it is lost."""
        config, rng = self.config, self.rng
        doubled = self.faulty and config.duplicate > 0 and rng.random() < config.duplicate
        return [
            (
                rng.uniform(config.min_latency, config.max_latency),
                self.faulty and config.drop > 0 and rng.random() < config.drop,
            )
            for _ in range(2 if doubled else 1)
        ]

    def can_reach(self, a: str, b: str) -> bool:
        return self.group_of.get(a, 0) == self.group_of.get(b, 0)

    def partition(self, groups: Sequence[Iterable[str]]) -> None:
        self.group_of = {node: i for i, group in enumerate(groups) for node in group}

    def heal(self) -> None:
        self.group_of = {}

    def calm(self) -> None:
        """The faults are over: from now on no message is lost or doubled."""
        self.faulty = False


# --8<-- [end:network]
