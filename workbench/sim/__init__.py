"""A deterministic simulator: a stage's real core in a virtual world (v2.1's elections, v3.0's log).

* :mod:`~workbench.sim.algorithms`: each algorithm's entry: its cores, checkers and claims.
* :mod:`~workbench.sim.world`: a run's configuration, its nodes, its messages in flight.
* :mod:`~workbench.sim.network`: latency, loss, duplication, partitions.
* :mod:`~workbench.sim.nemesis`: faults from a scenario file or from the seed.
* :mod:`~workbench.sim.simulator`: the virtual clock and the event queue.
* :mod:`~workbench.sim.checkers`: the properties, checked on the trace.
* :mod:`~workbench.sim.report`: what the algorithm promised, and the summary.
* :mod:`~workbench.sim.trace`, :mod:`~workbench.sim.svg`: the outputs.
* :mod:`~workbench.sim.cli`: ``ddb simulate``; ``figures``: ``make figures``.
* v3.0's replicated log (``--algorithm raft``): :mod:`~workbench.sim.raft` (its entry),
  :mod:`~workbench.sim.logsim` (a disk, state machines, :mod:`~workbench.sim.clients`),
  :mod:`~workbench.sim.logchecks` (its checkers), :mod:`~workbench.sim.unsafe` (``--unsafe``).
"""

from workbench.sim import raft as _raft  # noqa: F401  v3.0's entry: --algorithm raft
