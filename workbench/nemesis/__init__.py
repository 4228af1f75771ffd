"""Faults on real processes: run a workload against a fresh cluster while a nemesis kills,
pauses and restarts its nodes, then check each run's history and name what went wrong
(``ddb nemesis``). The stages it can put through it, v2.2 and v3.0, differ only in what
:mod:`workbench.nemesis.stages` says of them."""
