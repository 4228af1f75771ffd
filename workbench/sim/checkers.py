"""The checkers: read a trace and say whether the election kept its promises.

Each checker replays the records in order and reports the *first* violation, with its
virtual time and the nodes involved. They read nothing but the trace, so they work as
well on a hand-made list of records as on a run of the simulator.

* **election safety**: never two leaders in the same term, over the whole run.
* **single leader**: never two running nodes acting as leader at the same instant.
* **liveness**: once the faults stop, the running nodes agree on one leader within a
  bound, and keep agreeing until the end.
* **stability**: no election starts while the cluster is settled: no partition, and
  every running node follows one running leader.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from stages.v2_1_election.core import Timings
from workbench.sim.partitions import (
    disruptions,
    majority_liveness,
    minority_leader,
    only_voters_lead,
)
from workbench.sim.replay import Cluster, Verdict, plural
from workbench.sim.trace import Record

__all__ = [
    "Cluster",
    "Verdict",
    "check",
    "election_checks",
    "election_safety",
    "liveness",
    "single_leader",
]


# --8<-- [start:checkers]
def election_safety(records: Iterable[Record]) -> Verdict:
    leader_of: dict[int, str] = {}  # term -> the first node that led it
    for record in records:
        if record["event"] == "role" and record["role"] == "leader":
            node, term, t = record["node"], record["term"], record["t"]
            first = leader_of.setdefault(term, node)
            if first != node:
                detail = f"{node} became leader of term {term} at {t:.4f} s; {first} had led it"
                return Verdict("election safety", False, detail, record["t"], (first, node))
    return Verdict("election safety", True, f"{len(leader_of)} terms, one leader each")


def single_leader(records: Sequence[Record], bound: float = 0.0) -> Verdict:
    """Two running nodes acting as leader at once, for longer than ``bound`` seconds.

    Overlaps that end at the instant they begin do not count: a leader resuming from a
    pause reads the messages it missed, and steps down, before it can act as leader.
    Majority vote cannot stop a leader cut off in a minority from believing it leads
    until CheckQuorum tells it otherwise: its promise is a bounded overlap.
    """
    overlaps = _overlaps(records)
    if not overlaps:
        return Verdict("single leader", True, "never two leaders at once")
    at, _, nodes = overlaps[0]
    lengths = [end - start for start, end, _ in overlaps]
    detail = (
        f"{' and '.join(nodes)} both led at {at:.4f} s; {plural(len(overlaps), 'overlap')}, "
        f"{sum(lengths):.3f} s in all, {max(lengths):.3f} s the longest"
    )
    if max(lengths) <= bound:
        return Verdict("single leader", True, detail + f" (within the bound, {bound:g} s)")
    long = next(o for o in overlaps if o[1] - o[0] > bound) if bound else overlaps[0]
    if bound:
        detail += f", longer than the bound ({bound:g} s)"
    return Verdict("single leader", False, detail, long[0], long[2])


def longest_overlap(records: Sequence[Record]) -> float:
    """The longest time two running nodes both acted as leader (0 if never)."""
    return max((end - start for start, end, _ in _overlaps(records)), default=0.0)


def _overlaps(records: Sequence[Record]) -> list[tuple[float, float, tuple[str, ...]]]:
    cluster, overlaps = Cluster(), []  # (start, end, leaders) of each overlap
    since: tuple[float, tuple[str, ...]] | None = None
    for record in records:
        if not cluster.apply(record):
            continue
        leaders = cluster.leaders()
        if len(leaders) > 1 and since is None:
            since = (record["t"], tuple(leaders))
        elif len(leaders) <= 1 and since is not None:
            overlaps.append((since[0], record["t"], since[1]))
            since = None
    if since is not None:  # two leaders until the end
        overlaps.append((since[0], records[-1]["t"], since[1]))
    return [(start, end, nodes) for start, end, nodes in overlaps if end > start]


def liveness(records: Sequence[Record], bound: float) -> Verdict:
    cluster, calm_at, settled_at, leader = Cluster(), None, None, None
    for record in records:
        changed = cluster.apply(record)
        if record["event"] == "calm":
            calm_at, changed = record["t"], True
            if cluster.partitioned:
                return Verdict("liveness", None, "not checked: a partition is never healed")
        if calm_at is None or not changed:
            continue
        agreed = cluster.agreed_leader()
        if agreed is None:
            settled_at = leader = None
        elif settled_at is None or agreed != leader:
            settled_at, leader = record["t"], agreed
    end = records[-1]["t"] if records else 0.0
    if calm_at is None or end < calm_at + bound:
        return Verdict("liveness", None, "not checked: the run ends too soon after the faults")
    if settled_at is not None and settled_at <= calm_at + bound:
        took = settled_at - calm_at
        return Verdict("liveness", True, f"all follow {leader} {took:.3f} s after the faults")
    at = calm_at + bound
    views = ", ".join(f"{n} {r[0]} (leader {r[1]}, term {r[2]})" for n, r in _views(cluster))
    detail = f"no lasting agreement {bound} s after the faults stopped; at the end: {views}"
    return Verdict("liveness", False, detail, at, tuple(cluster.running()))


def stability(records: Iterable[Record], grace: float) -> Verdict:
    """``grace``: how long a leader back from a fault (or a healed network) needs before
    its heartbeats reach everyone; a timeout that fires before then is no surprise."""
    cluster, elections = Cluster(), 0
    for record in records:
        starts = record["event"] == "role" and record["role"] == "candidate"
        leader = cluster.agreed_leader() if starts else None
        settled = (
            leader is not None
            and not cluster.partitioned
            and record["t"] >= cluster.healed_at + grace
            and record["t"] >= cluster.back_at.get(leader, float("-inf")) + grace
        )
        if settled:
            node, term = record["node"], record["term"]
            detail = (
                f"{node} started an election at term {term} at {record['t']:.4f} s, "
                f"though all followed {leader}"
            )
            return Verdict("stability", False, detail, record["t"], (node, str(leader)))
        elections += starts
        cluster.apply(record)
    return Verdict("stability", True, f"{elections} elections, none while the cluster was settled")


# --8<-- [end:checkers]


def _views(cluster: Cluster) -> list[tuple[str, tuple[str, str | None, int]]]:
    return [(node, cluster.roles[node]) for node in cluster.running()]


def _has_voters_and_extras(records: Sequence[Record]) -> bool:
    """Extra nodes, in an algorithm with voters (Bully has none: any node may lead)."""
    return bool(records) and bool(records[0].get("extras")) and "voters" in records[0]


def check(records: Sequence[Record], timings: Timings) -> list[Verdict]:
    """Every checker the run's algorithm is judged by (its entry, by the name in the
    trace's start record), with the bounds that follow from its timings."""
    from workbench.sim.algorithms import sim_algorithm  # its entries name these checkers

    return sim_algorithm(records[0]["algorithm"]).checkers(records, timings)


def election_checks(records: Sequence[Record], timings: Timings) -> list[Verdict]:
    """The checkers of an election, with the bounds that follow from its timings."""
    return [
        election_safety(records),
        single_leader(records, timings.stale_leader_bound or 0.0),
        minority_leader(records),
        liveness(records, timings.liveness_bound),
        majority_liveness(records, timings.liveness_bound),
        stability(records, grace=2 * timings.heartbeat_interval),
        disruptions(records, window=timings.liveness_bound),
        *([only_voters_lead(records)] if _has_voters_and_extras(records) else []),
    ]
