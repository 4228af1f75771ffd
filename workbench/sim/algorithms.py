"""The algorithms the simulator runs, each with the checkers that judge it and its claims.

The simulator drives any core through the :class:`~stages.v2_1_election.core.Elector`
protocol, built from the stage's :class:`~stages.v2_1_election.core.Algorithm` entry;
it imports nothing else of the algorithm. A :class:`SimAlgorithm` adds what the
simulator needs to *judge* a run: the checkers to run on its trace, and the algorithm's
*claims*, which their verdicts are held against: each property it promises, and the
faults that void the promise. Bully with a generation clock keeps one leader per term
only while no message is lost; majority vote keeps it whatever the network does.

Entries are found by name (:func:`sim_algorithm`), the name the trace's start record
carries. A later stage adds its own with :func:`register`, with more checkers (a
replicated log's, say) and claims, and edits neither the engine nor these entries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stages.v2_1_election.algorithms import ALGORITHMS
from stages.v2_1_election.core import Algorithm, Elector, ElectorFactory, Timings
from workbench.sim.checkers import election_checks
from workbench.sim.replay import Verdict
from workbench.sim.trace import Record

if TYPE_CHECKING:  # the engine imports this module; the types only, to name a simulator
    from workbench.sim.simulator import Simulator
    from workbench.sim.world import SimConfig

__all__ = ["ALGORITHMS", "Algorithm", "Elector", "ElectorFactory", "SimAlgorithm"]

# A run's records and the algorithm's timings -> the verdicts, in the order reports list them
Checkers = Callable[[Sequence[Record], Timings], list[Verdict]]


@dataclass(frozen=True)
class SimAlgorithm:
    """An algorithm as the simulator runs and judges it."""

    algorithm: Algorithm  # the stage's entry: its settings, and how to build a core
    claims: Mapping[str, frozenset[str]]  # property -> the faults that void the promise
    checkers: Checkers = election_checks  # what its runs are checked for
    # who runs it: None, the engine's own Simulator; a later stage's subclass adds its parts
    simulator: Callable[[SimConfig], Simulator] | None = None

    @property
    def name(self) -> str:
        return self.algorithm.name

    def claimed(self, verdict: Verdict, faults: set[str]) -> bool:
        """Does it promise the property ``verdict`` checked, given these faults?"""
        voided_by = self.claims.get(verdict.name)
        return voided_by is not None and not faults & voided_by


# --8<-- [start:claims]
LOSSY = frozenset({"partition", "lost"})  # faults under which a message never arrives
NOTHING = frozenset[str]()  # a promise no fault voids

SIM_ALGORITHMS: dict[str, SimAlgorithm] = {
    "bully": SimAlgorithm(
        ALGORITHMS["bully"],
        claims={
            "election safety": LOSSY,
            "single leader": LOSSY,
            "liveness": NOTHING,
            "stability": LOSSY,
        },
    ),
    "quorum": SimAlgorithm(
        ALGORITHMS["quorum"],
        claims={
            "election safety": NOTHING,
            "single leader": NOTHING,  # a cut-off leader steps down within the stale-leader bound
            "leader in a minority": NOTHING,
            "liveness": NOTHING,
            "majority liveness": frozenset({"lost"}),
            "stability": LOSSY,
            "disruptions": frozenset({"lost"}),
            "only voters lead": NOTHING,
        },
    ),
}
# --8<-- [end:claims]


def sim_algorithm(name: str) -> SimAlgorithm:
    """The entry of the algorithm called ``name``."""
    try:
        return SIM_ALGORITHMS[name]
    except KeyError:
        known = ", ".join(sorted(SIM_ALGORITHMS))
        raise KeyError(f"the simulator knows no algorithm {name!r}; known: {known}") from None


def register(entry: SimAlgorithm) -> None:
    """Add a later stage's algorithm; a name already taken is an error, never replaced."""
    if entry.name in SIM_ALGORITHMS:
        raise ValueError(f"the simulator already has an algorithm called {entry.name!r}")
    SIM_ALGORITHMS[entry.name] = entry
