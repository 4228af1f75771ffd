"""What each election algorithm promises, and under which faults the promise holds.

The simulator drives any core through the :class:`~stages.v2_1_election.core.Elector`
protocol, built from the algorithm's entry in
:data:`stages.v2_1_election.algorithms.ALGORITHMS`; it imports nothing else of the
algorithm. What this module adds is the algorithm's *claims*, which the checkers'
verdicts are held against: each property it promises, and the faults that void the
promise. Bully with a generation clock keeps one leader per term only while no
message is lost; majority vote keeps it whatever the network does.
"""

from __future__ import annotations

from stages.v2_1_election.algorithms import ALGORITHMS
from stages.v2_1_election.core import Algorithm, Elector, ElectorFactory

__all__ = ["ALGORITHMS", "CLAIMS", "Algorithm", "Elector", "ElectorFactory"]

# --8<-- [start:claims]
LOSSY = frozenset({"partition", "lost"})  # faults under which a message never arrives
NOTHING = frozenset[str]()  # a promise no fault voids

CLAIMS: dict[str, dict[str, frozenset[str]]] = {
    "bully": {
        "election safety": LOSSY,
        "single leader": LOSSY,
        "liveness": NOTHING,
        "stability": LOSSY,
    },
    "quorum": {
        "election safety": NOTHING,
        "single leader": NOTHING,  # a cut-off leader steps down within the stale-leader bound
        "leader in a minority": NOTHING,
        "liveness": NOTHING,
        "majority liveness": frozenset({"lost"}),
        "stability": LOSSY,
        "disruptions": frozenset({"lost"}),
        "only voters lead": NOTHING,
    },
}
# --8<-- [end:claims]
