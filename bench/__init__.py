"""Benchmarks: throughput, failover and scaling, each against a baseline in the same run.

``make bench`` (``python -m bench``) runs every part and writes ``docs/benchmarks.md`` with
its plots; ``make bench QUICK=1`` (``--mode quick``) is a short version, and ``--mode tiny``
is what the test runs, so that the harness cannot rot.
"""
