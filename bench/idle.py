"""Part 6: what a cluster at rest costs, per node: CPU (share of one core) and memory."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.failover import node_flags
from bench.procs import cpu_seconds, rss_bytes
from bench.settings import DEFAULTS, Mode
from workbench.cluster import Cluster
from workbench.harness import DDB, Processes


async def at_rest(algorithm: str, nodes: int, seconds: float) -> dict[str, Any]:
    processes = Processes()
    try:
        with tempfile.TemporaryDirectory(prefix="ddb-bench-") as tmp:
            cluster = Cluster(processes)
            registry = await cluster.start_registry()
            names = [f"n{i}" for i in range(1, nodes + 1)]
            await asyncio.gather(
                *(
                    cluster.start_node(
                        name, 0, *node_flags(algorithm, nodes, DEFAULTS, Path(tmp), name)
                    )
                    for name in names
                )
            )
            await cluster.wait_for_agreement(timeout=30)
            await asyncio.sleep(min(1.0, seconds))  # past the start-up's work
            pids = [cluster.nodes[name].proc.pid for name in names]
            before = [cpu_seconds(pid) for pid in pids]
            registry_before = cpu_seconds(registry.proc.pid)
            start = time.monotonic()
            await asyncio.sleep(seconds)
            wall = time.monotonic() - start
            cpu = [(cpu_seconds(pid) - b) / wall for pid, b in zip(pids, before, strict=True)]
            return {
                "algorithm": algorithm,
                "seconds": wall,
                "cpu": cpu,
                "rss": [rss_bytes(pid) for pid in pids],
                "registry_cpu": (cpu_seconds(registry.proc.pid) - registry_before) / wall,
                "registry_rss": rss_bytes(registry.proc.pid),
            }
    finally:
        processes.stop_all()


def run(mode: Mode) -> dict[str, Any]:
    rows = [
        asyncio.run(at_rest(algorithm, mode.idle_nodes, mode.idle_seconds))
        for algorithm in mode.idle_algorithms
    ]
    flags = " ".join(node_flags("ALGORITHM", mode.idle_nodes, DEFAULTS, Path("DIR"), "NAME"))
    ddb = " ".join(Path(w).name if w == DDB[0] else w for w in DDB)
    lines = [f"{ddb} v2 registry --port 0", f"{ddb} v2.1 node -ra URL --name NAME --port 0 {flags}"]
    note = "(quorum adds --voters and --data-dir, as in the failover part)"
    return {"rows": rows, "commands": [*lines, note]}
