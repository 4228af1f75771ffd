"""Faults on real processes: run a workload against a fresh cluster while a nemesis kills,
pauses and restarts its nodes, then check each run's history and name what went wrong
(``ddb nemesis``). Every stage with a ``ddb STAGE node`` that takes v2.1's flags can be
put through it."""
