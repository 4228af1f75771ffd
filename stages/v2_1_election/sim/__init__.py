"""A deterministic simulator for the v2.1 election: the real core, a virtual world.

* :mod:`~stages.v2_1_election.sim.algorithms`: what the simulator needs from a core.
* :mod:`~stages.v2_1_election.sim.network`: latency, loss, duplication, partitions.
* :mod:`~stages.v2_1_election.sim.nemesis`: faults from a scenario file or from the seed.
* :mod:`~stages.v2_1_election.sim.simulator`: the virtual clock and the event queue.
* :mod:`~stages.v2_1_election.sim.checkers`: the properties, checked on the trace.
* :mod:`~stages.v2_1_election.sim.report`: what the algorithm promised, and the summary.
* :mod:`~stages.v2_1_election.sim.trace`, :mod:`~stages.v2_1_election.sim.svg`: the outputs.
* :mod:`~stages.v2_1_election.sim.cli`: ``ddb simulate``; ``figures``: ``make figures``.
"""
