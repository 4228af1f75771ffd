"""v3.0's entry in the simulator: ``ddb simulate --algorithm raft``.

The replicated log (:class:`~stages.v3_replicated_log.raft.RaftCore`) on v2.1's majority
vote, run by :class:`~workbench.sim.logsim.LogSimulator` (a disk, state machines and
clients) and judged by :mod:`~workbench.sim.logchecks`. It promises every property
whatever the faults: lost, doubled or reordered messages, crashes, pauses, partitions.
"""

from __future__ import annotations

from stages.v2_1_election.algorithms import quorum_settings
from stages.v2_1_election.core import Algorithm
from stages.v3_replicated_log.raft import RaftCore
from workbench.sim.algorithms import NOTHING, SimAlgorithm, register
from workbench.sim.logchecks import log_checks
from workbench.sim.logsim import LogSimulator

RAFT = Algorithm(
    "raft",
    "v3.0: Raft's replicated log on majority vote, with a key/value state machine",
    quorum_settings,
    RaftCore,
    durable=True,
)

# --8<-- [start:entry]
ENTRY = SimAlgorithm(
    RAFT,
    claims={
        "election safety": NOTHING,
        "log matching": NOTHING,
        "leader completeness": NOTHING,
        "state-machine safety": NOTHING,
        "acked writes kept": NOTHING,
        "synced before sent": NOTHING,
        "linearizable": NOTHING,
    },
    checkers=log_checks,
    simulator=LogSimulator,
)
# --8<-- [end:entry]

register(ENTRY)  # workbench.sim imports this module, once
