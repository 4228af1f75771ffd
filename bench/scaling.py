"""Part 5: how each election grows with the cluster, in the deterministic simulator.

Each run is ``sim_seconds`` of virtual time with crashes drawn from its seed (the
default rate, 0.1 a second); :func:`~workbench.sim.report.budget` counts the
elections, the time each took to an agreed leader and the messages sent meanwhile, the
figures ``ddb simulate --trials`` prints.
"""

from __future__ import annotations

import time
from typing import Any

from bench.settings import Mode
from workbench.sim.report import budget
from workbench.sim.simulator import SimConfig, simulate

ALGORITHMS = ("bully", "quorum")
FAULTS = (("crash", 0.1), ("partition", 0.05), ("pause", 0.1))  # `--nemesis crash,pause,partition`


def cost(algorithm: str, nodes: int, trials: int, seconds: float) -> dict[str, Any]:
    """Average time to an agreed leader, and messages, per election over ``trials`` seeds."""
    elections = messages = 0
    electing = 0.0
    for seed in range(1, trials + 1):
        config = SimConfig(
            nodes=nodes, seed=seed, duration=seconds, algorithm=algorithm,
            nemesis=(("crash", 0.1),),
        )  # fmt: skip
        spent = budget(simulate(config).records)
        elections += spent.elections
        messages += spent.election_messages
        electing += spent.electing_seconds
    return {
        "algorithm": algorithm,
        "nodes": nodes,
        "elections": elections,
        "seconds": electing / elections if elections else None,
        "messages": messages / elections if elections else None,
    }


def speed(algorithm: str, trials: int, seconds: float) -> dict[str, Any]:
    """Simulated runs per wall-clock second: 5 nodes, every kind of fault."""
    start = time.perf_counter()
    for seed in range(1, trials + 1):
        simulate(
            SimConfig(nodes=5, seed=seed, duration=seconds, algorithm=algorithm, nemesis=FAULTS)
        )
    wall = time.perf_counter() - start
    return {"algorithm": algorithm, "trials": trials, "wall": wall, "per_second": trials / wall}


def run(mode: Mode) -> dict[str, Any]:
    rows = [
        cost(algorithm, nodes, mode.sim_trials, mode.sim_seconds)
        for nodes in mode.sim_sizes
        for algorithm in ALGORITHMS
    ]
    virtual = mode.sim_seconds if mode.name == "tiny" else 30.0  # the speed: 30 virtual s
    speeds = [speed(a, max(2, mode.sim_trials), virtual) for a in ALGORITHMS]
    sizes = ",".join(map(str, mode.sim_sizes))
    commands = [
        f"ddb simulate --algorithm ALGORITHM --nodes N --nemesis crash --duration "
        f"{mode.sim_seconds:g} --trials {mode.sim_trials}   (N in {sizes})",
        f"ddb simulate --algorithm ALGORITHM --nodes 5 --nemesis crash,pause,partition "
        f"--duration {virtual:g} --trials {max(2, mode.sim_trials)}",
    ]
    return {"rows": rows, "speed": speeds, "commands": commands}
