"""How long each part runs: ``full`` for the page, ``quick`` to look, ``tiny`` for the test."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """One set of election timings for the failover trials, as etcd names them."""

    label: str
    heartbeat: float | None  # seconds; None: the algorithm's defaults
    election: float | None

    def flags(self, algorithm: str) -> list[str]:
        if self.heartbeat is None or self.election is None:
            return []
        timeout = "--leader-timeout" if algorithm == "bully" else "--election-timeout"
        return ["--heartbeat-interval", f"{self.heartbeat:g}", timeout, f"{self.election:g}"]


DEFAULTS = Timing("defaults", None, None)
ETCD_DEFAULT = Timing("100/1000 ms", 0.1, 1.0)  # etcd's own defaults
ETCD_FAST = Timing("50/250 ms", 0.05, 0.25)


@dataclass(frozen=True)
class Mode:
    name: str
    kv_rounds: int  # interleaved rounds of every server and operation
    kv_seconds: float  # one run of the load; wrk counts whole seconds only
    wrk: bool  # load with wrk when it is installed; else (and in tiny mode) with KVClient
    client_seconds: float
    registry_nodes: int
    registry_seconds: float
    registry_ttl: float | None  # None: the registry's default
    failover_nodes: int
    failover_trials: int
    timings: tuple[Timing, ...]
    algorithms: tuple[str, ...]  # for failover and idle cost
    sigterm_trials: int
    etcd_timings: tuple[Timing, ...]
    sim_sizes: tuple[int, ...]
    sim_trials: int
    sim_seconds: float  # virtual seconds per simulated run
    idle_seconds: float
    idle_nodes: int = 3
    idle_algorithms: tuple[str, ...] = ("bully", "quorum")
    # v3.0 against etcd (bench/replicated.py); tiny mode measures ours only
    v3_rounds: int = 1  # interleaved rounds of every figure on both systems
    v3_seconds: float = 1.0  # one run of the load
    v3_kills: int = 3  # kill -9 trials of the leader, each system
    v3_log_sizes: tuple[int, ...] = (10_000, 50_000)  # entries replayed at start-up
    v3_starts: int = 3  # start-ups timed on each log
    v3_etcd: bool = True


MODES = {
    "full": Mode(
        name="full",
        kv_rounds=8,
        kv_seconds=2.0,
        wrk=True,
        client_seconds=3.0,
        registry_nodes=1000,
        registry_seconds=30.0,
        registry_ttl=None,
        failover_nodes=5,
        failover_trials=20,
        timings=(DEFAULTS, ETCD_DEFAULT, ETCD_FAST),
        algorithms=("bully", "quorum"),
        sigterm_trials=20,
        etcd_timings=(ETCD_DEFAULT, ETCD_FAST),
        sim_sizes=(3, 5, 9, 17, 33),
        sim_trials=10,
        sim_seconds=30.0,
        idle_seconds=10.0,
        v3_rounds=3,
        v3_seconds=2.0,
        v3_kills=7,
        v3_log_sizes=(10_000, 50_000, 200_000),
    ),
    "quick": Mode(
        name="quick",
        kv_rounds=2,
        kv_seconds=1.0,
        wrk=True,
        client_seconds=1.0,
        registry_nodes=1000,
        registry_seconds=6.0,
        registry_ttl=2.0,
        failover_nodes=5,
        failover_trials=2,
        timings=(DEFAULTS,),
        algorithms=("bully", "quorum"),
        sigterm_trials=1,
        etcd_timings=(ETCD_DEFAULT,),
        sim_sizes=(3, 5, 9, 17, 33),
        sim_trials=2,
        sim_seconds=15.0,
        idle_seconds=10.0,  # shorter, and 10 ms CPU ticks would swamp the figure
    ),
    "tiny": Mode(
        name="tiny",
        kv_rounds=1,
        kv_seconds=0.3,
        wrk=False,
        client_seconds=0.3,
        registry_nodes=20,
        registry_seconds=1.0,
        registry_ttl=0.5,
        failover_nodes=2,
        failover_trials=1,
        timings=(ETCD_FAST,),
        algorithms=("bully",),
        sigterm_trials=0,
        etcd_timings=(),
        sim_sizes=(3, 5),
        sim_trials=1,
        sim_seconds=5.0,
        idle_seconds=0.5,
        idle_nodes=2,
        idle_algorithms=("quorum",),  # the one with more flags
        v3_seconds=0.3,
        v3_kills=1,
        v3_log_sizes=(1_000,),
        v3_starts=1,
        v3_etcd=False,
    ),
}
