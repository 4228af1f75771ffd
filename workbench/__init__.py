"""The workbench: the tools that serve every stage, kept out of the chapters.

The chapters in :mod:`stages` are the database, one version at a time: each algorithm, its
messages, its node and its command line. The tools here are how we run, watch, break and judge
those stages; each depends only on the stages' public seams (the ``Elector`` interface, the
nodes' HTTP API and the ``ddb`` command), never the other way round:

- :mod:`workbench.sim`: the deterministic simulator (a virtual clock and network, nemeses,
  checkers, timelines and figures), ``ddb simulate``.
- :mod:`workbench.lab`: the network lab, each node in its own network namespace, ``ddb lab``.
- :mod:`workbench.demo`: the demo's supervisor and its dashboard, ``ddb v2 demo``/``v2.1 demo``.
- :mod:`workbench.harness`, :mod:`workbench.cluster`, :mod:`workbench.failover`: real ``ddb``
  processes started as a user types them, for the tests and the benchmarks.
- :mod:`workbench.processes`: the one copy of "SIGCONT, SIGTERM, wait, SIGKILL".

A stage's command line may import a tool to offer it (``ddb v2.1 demo`` runs the supervisor);
a stage's core, node or server never does.
"""
