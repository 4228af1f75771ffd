"""Part 4: failover with real processes, and the same trial against etcd.

Each trial stops the leader of a running cluster, times until every survivor names the
same new leader, then starts the stopped node again and waits for the whole cluster to
agree before the next trial. The trial itself is the one the tests use
(``workbench/failover.py``); :mod:`bench.etcd` runs it against etcd.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.procs import shown
from bench.settings import Mode, Timing
from workbench.cluster import Cluster
from workbench.failover import restart, stop_leader_and_time_failover
from workbench.harness import DDB, Processes

AGREEMENT = 30.0  # seconds a restarted cluster may take to agree again, on a busy machine


def node_flags(algorithm: str, nodes: int, timing: Timing, data: Path, name: str) -> list[str]:
    flags = ["--election", algorithm, *timing.flags(algorithm)]
    if algorithm == "quorum":
        voters = ",".join(f"n{i}" for i in range(1, nodes + 1))
        flags += ["--voters", voters, "--data-dir", str(data / name)]
    return flags


async def trials(algorithm: str, nodes: int, timing: Timing, sig: int, count: int) -> list[float]:
    """``count`` failovers of a fresh ``nodes``-node cluster; seconds each."""
    processes = Processes()
    names = [f"n{i}" for i in range(1, nodes + 1)]
    try:
        with tempfile.TemporaryDirectory(prefix="ddb-bench-") as tmp:
            cluster = Cluster(processes)
            await cluster.start_registry()
            await asyncio.gather(
                *(
                    cluster.start_node(
                        name, 0, *node_flags(algorithm, nodes, timing, Path(tmp), name)
                    )
                    for name in names
                )
            )
            times = []
            for trial in range(1, count + 1):
                old, _new, seconds = await stop_leader_and_time_failover(
                    cluster, sig, timeout=AGREEMENT
                )
                times.append(seconds)
                print(  # progress: a full run takes minutes
                    f"bench:   {algorithm} ({timing.label}, {signal.Signals(sig).name}): "
                    f"failover {trial} of {count} took {seconds:.3f}s",
                    file=sys.stderr,
                    flush=True,
                )
                await restart(cluster, old, *node_flags(algorithm, nodes, timing, Path(tmp), old))
            await cluster.wait_for_agreement(timeout=AGREEMENT)
            return times
    finally:
        processes.stop_all()


def commands(mode: Mode) -> list[str]:
    ddb = shown(DDB)
    lines = [f"{ddb} v2 registry --port 0"]
    for timing in mode.timings:
        for algorithm in mode.algorithms:
            flags = node_flags(algorithm, mode.failover_nodes, timing, Path("DIR"), "NAME")
            lines.append(f"{ddb} v2.1 node -ra URL --name NAME --port 0 " + " ".join(flags))
    return lines


def run(mode: Mode) -> dict[str, Any]:
    results = []
    for timing in mode.timings:
        for algorithm in mode.algorithms:
            times = asyncio.run(
                trials(algorithm, mode.failover_nodes, timing, signal.SIGKILL, mode.failover_trials)
            )
            results.append(
                {"system": algorithm, "timing": timing.label, "signal": "SIGKILL", "times": times}
            )
    if mode.sigterm_trials:  # a graceful hand-off, against the SIGKILL trials above
        timing = mode.timings[0]
        times = asyncio.run(
            trials("bully", mode.failover_nodes, timing, signal.SIGTERM, mode.sigterm_trials)
        )
        results.append(
            {"system": "bully", "timing": timing.label, "signal": "SIGTERM", "times": times}
        )
    return {"trials": results, "commands": commands(mode)}
