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
from dataclasses import dataclass, field

from stages.v2_1_election.bully import ElectionConfig
from stages.v2_1_election.sim.trace import Record


@dataclass(frozen=True)
class Verdict:
    """One checker's finding: ``ok`` is None when the property could not be checked."""

    name: str
    ok: bool | None
    detail: str
    at: float | None = None  # when the first violation happened
    nodes: tuple[str, ...] = ()  # who was involved


CHANGES = frozenset({"role", "crash", "restart", "pause", "resume", "partition", "heal"})


# --8<-- [start:replay]
@dataclass
class Cluster:
    """The cluster's state as the trace tells it, event by event."""

    roles: dict[str, tuple[str, str | None, int]] = field(default_factory=dict)
    crashed: set[str] = field(default_factory=set)
    paused: set[str] = field(default_factory=set)
    partitioned: bool = False
    back_at: dict[str, float] = field(default_factory=dict)  # last restart or resume
    healed_at: float = float("-inf")  # when the last partition healed

    def apply(self, record: Record) -> bool:
        """Take one record into account; say whether it changed who runs or leads."""
        event, node = record["event"], record.get("node")
        if event not in CHANGES:
            return False
        t = record["t"]
        if event == "role":
            self.roles[node] = (record["role"], record["leader"], record["term"])
        elif event == "crash":
            self.crashed.add(node)
            self.paused.discard(node)
        elif event == "restart":
            self.crashed.discard(node)
            self.back_at[node] = t
        elif event == "pause":
            self.paused.add(node)
        elif event == "resume":
            self.paused.discard(node)
            self.back_at[node] = t
        elif event == "partition":
            self.partitioned = True
        else:  # heal
            self.partitioned, self.healed_at = False, t
        return True

    def running(self) -> list[str]:
        return [n for n in sorted(self.roles) if n not in self.crashed and n not in self.paused]

    def leaders(self) -> list[str]:
        return [node for node in self.running() if self.roles[node][0] == "leader"]

    def agreed_leader(self) -> str | None:
        """The leader that every running node follows, at the leader's own term, if any."""
        leaders = self.leaders()
        if len(leaders) != 1:
            return None
        leader = leaders[0]
        agreed = ("follower", leader, self.roles[leader][2])
        followers = (node for node in self.running() if node != leader)
        return leader if all(self.roles[node] == agreed for node in followers) else None


# --8<-- [end:replay]


def liveness_bound(config: ElectionConfig, margin: float = 0.1) -> float:
    """How long after the faults stop the cluster must have agreed on a leader.

    A follower notices its leader is gone within ``leader_timeout * (1 + jitter)``; the
    election then takes at most ``answer_timeout`` (nobody above answers) plus
    ``victory_timeout`` (somebody did, and its own election runs); ``margin`` covers
    the network's latencies and the 10 ms tick.
    """
    detect = config.leader_timeout * (1 + config.jitter)
    return round(detect + config.answer_timeout + config.victory_timeout + margin, 6)


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


def single_leader(records: Sequence[Record]) -> Verdict:
    """Overlaps that end at the instant they begin do not count: a leader resuming from a
    pause reads the messages it missed, and steps down, before it can act as leader."""
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
    overlaps = [(start, end, nodes) for start, end, nodes in overlaps if end > start]
    if not overlaps:
        return Verdict("single leader", True, "never two leaders at once")
    at, _, nodes = overlaps[0]
    lengths = [end - start for start, end, _ in overlaps]
    detail = (
        f"{' and '.join(nodes)} both led at {at:.4f} s; {_plural(len(overlaps), 'overlap')}, "
        f"{sum(lengths):.3f} s in all, {max(lengths):.3f} s the longest"
    )
    return Verdict("single leader", False, detail, at, nodes)


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
            return Verdict("stability", False, detail, record["t"], (node, leader))
        elections += starts
        cluster.apply(record)
    return Verdict("stability", True, f"{elections} elections, none while the cluster was settled")


# --8<-- [end:checkers]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _views(cluster: Cluster) -> list[tuple[str, tuple[str, str | None, int]]]:
    return [(node, cluster.roles[node]) for node in cluster.running()]


def check(records: Sequence[Record], config: ElectionConfig) -> list[Verdict]:
    """Every checker, with the bounds that follow from the election's timings."""
    return [
        election_safety(records),
        single_leader(records),
        liveness(records, liveness_bound(config)),
        stability(records, grace=2 * config.heartbeat_interval),
    ]
