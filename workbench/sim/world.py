"""What a simulated run is made of: its configuration, its nodes, its messages in flight.

:mod:`~workbench.sim.simulator` runs the events; this module holds what they act on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from stages.v2_1_election.core import ElectionSettings, Elector
from stages.v2_1_election.messages import Message
from stages.v2_1_election.votefile import MemoryStorage
from workbench.sim.algorithms import sim_algorithm
from workbench.sim.nemesis import Fault, node_names
from workbench.sim.network import NetworkConfig


@dataclass(frozen=True)
class SimConfig:
    """One run. With ``nemesis`` rates, faults are drawn from the seed; with ``scenario``,
    they are read from it. Faults (loss and duplication too) stop at ``calm_at``.

    ``election`` is the algorithm's own settings; left out, its defaults for the voters
    n1..nN (``nodes``). ``durable``: a restarted node keeps its term and vote (as with
    ``--data-dir``). ``extras``: more nodes after those, each of a kind from
    :data:`~workbench.sim.extras.EXTRA_KINDS`, that start only when a ``join``
    fault starts them, and may come and go.
    """

    nodes: int = 5  # the voters, n1..nN
    seed: int = 1
    duration: float = 30.0
    algorithm: str = "bully"
    election: ElectionSettings = None  # type: ignore[assignment]  # filled in below
    durable: bool = True
    network: NetworkConfig = field(default_factory=NetworkConfig)
    nemesis: tuple[tuple[str, float], ...] = ()  # (fault kind, faults per second)
    scenario: tuple[Fault, ...] = ()
    ttl: float = 5.0  # the registry forgets a silent node this long after it falls silent
    registry_interval: float = 1.0  # each node registers again this often (its heartbeat)
    extras: tuple[str, ...] = ()  # n(N+1), ...: "learner" or "stray", absent until they join
    unsafe: tuple[str, ...] = ()  # shortcuts the algorithm's simulator must catch (v3.0's)

    def __post_init__(self) -> None:
        if self.election is None:
            voters = node_names(self.nodes)
            settings = sim_algorithm(self.algorithm).algorithm.settings(voters)
            object.__setattr__(self, "election", settings)

    @property
    def calm_at(self) -> float:
        if self.scenario:
            return self.scenario[-1].at
        lossy = self.network.drop > 0 or self.network.duplicate > 0
        return round(self.duration * 2 / 3, 3) if self.nemesis or lossy else 0.0

    @property
    def tick_every(self) -> float:
        return self.election.timings().heartbeat_interval / 10  # as the real node's loop


@dataclass(frozen=True)
class Envelope:
    """One copy of a message in flight."""

    id: int
    sender: str
    to: str
    message: Message
    lost: bool


@dataclass
class SimNode:
    """A node as the simulator sees it: a process that may be down, paused or running."""

    name: str
    core: Elector | None = None  # None while crashed
    storage: MemoryStorage = field(default_factory=MemoryStorage)  # its --data-dir: what it kept
    paused: bool = False
    held: list[Envelope] = field(default_factory=list)  # arrived while paused
    loops: int = 0  # the generation of its registry loops; a crash or pause stops them
    epoch: float = 0.0  # this process's ticks fall on epoch + k * tick_every
    next_tick: float | None = None
    state: tuple[str, str | None, int] | None = None  # (role, leader, term) last recorded


@contextmanager
def quiet(logger: logging.Logger) -> Iterator[None]:
    """Silence the cores' logs while simulating (the checkers report what matters):
    thousands of runs, nobody reading."""
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
