"""The checkers that count to a majority: what majority vote promises and Bully does not.

* **leader in a minority**: nobody becomes leader on the smaller side of a partition
  (fewer than ``voters // 2 + 1`` voters), where a majority could not have voted.
* **majority liveness**: whenever a side of the network (the whole cluster, or one
  side of a partition) has a majority of the voters running, and no fault strikes
  for ``bound`` seconds, that side's running nodes (voters or not) agree on one
  leader of its own within ``bound``.
* **only voters lead**: no extra node (a non-voter, or a stray that wrongly believes
  it votes) ever becomes leader.
* **disruptions**: when a partition heals, a side that had a majority running and an agreed
  leader keeps that leader's term: no node rejoining from the other side raises it.
  Each time it is raised within ``window`` seconds of the heal counts as one.
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.sim.replay import Cluster, Verdict, plural
from workbench.sim.trace import Record

FAULTS = frozenset({"crash", "restart", "pause", "resume", "partition", "heal", "join"})


def majority(nodes: Sequence[str]) -> int:
    return len(nodes) // 2 + 1


# --8<-- [start:partitions]
def minority_leader(records: Sequence[Record]) -> Verdict:
    name, cluster = "leader in a minority", Cluster()
    for record in records:
        cluster.apply(record)
        if record["event"] == "role" and record["role"] == "leader":
            side = cluster.side(record["node"])
            voters = [node for node in side if node in cluster.voters]
            if len(voters) < majority(cluster.voters):
                of = "voters" if cluster.extras else "nodes"  # with no extras, every node votes
                detail = (
                    f"{record['node']} became leader of term {record['term']} at "
                    f"{record['t']:.4f} s with {len(voters)} of {len(cluster.voters)} {of} "
                    f"on its side ({', '.join(side)})"
                )
                return Verdict(name, False, detail, record["t"], tuple(side))
    return Verdict(name, True, "every leader was elected where a majority could vote")


def majority_liveness(records: Sequence[Record], bound: float) -> Verdict:
    name, cluster = "majority liveness", Cluster()
    due: tuple[float, tuple[str, ...]] | None = None  # (check at, the side with a majority)
    checked = 0

    def settled(side: tuple[str, ...], at: float) -> Verdict | None:
        if cluster.agreed_leader(among=side) is not None:
            return None
        views = ", ".join(f"{n} {cluster.roles[n][0]} t{cluster.roles[n][2]}" for n in side)
        detail = f"{', '.join(side)} had a majority but no agreed leader at {at:.4f} s: {views}"
        return Verdict(name, False, detail, at, side)

    for record in records:
        if due is not None and record["t"] > due[0]:
            checked += 1
            if (found := settled(due[1], due[0])) is not None:
                return found
            due = None
        cluster.apply(record)
        if record["event"] in FAULTS:
            due = None
            for side in cluster.groups or (cluster.nodes,):
                up = tuple(node for node in side if node in cluster.running())
                if len([n for n in up if n in cluster.voters]) >= majority(cluster.voters):
                    due = (record["t"] + bound, up)
    if due is not None and records and records[-1]["t"] >= due[0]:
        checked += 1
        if (found := settled(due[1], due[0])) is not None:
            return found
    if not checked:
        return Verdict(name, None, f"not checked: no {bound:g} s with a majority up and no fault")
    return Verdict(name, True, f"{plural(checked, 'stretch')} with a majority up, all settled")


def disruptions(records: Sequence[Record], window: float) -> Verdict:
    name, cluster, count = "disruptions", Cluster(), 0
    guard: tuple[float, int, tuple[str, ...]] | None = None  # (until, term, majority side)
    first: tuple[float, tuple[str, ...]] | None = None
    for record in records:
        event, t = record["event"], record["t"]
        if event == "heal":
            guard = None
            for side in cluster.groups:
                up = [node for node in side if node in cluster.running() and node in cluster.voters]
                leader = cluster.agreed_leader(among=side)
                if leader is not None and len(up) >= majority(cluster.voters):
                    guard = (t + window, cluster.roles[leader][2], side)
        elif event in FAULTS or (guard is not None and t > guard[0]):
            guard = None
        elif event == "role" and guard and record["node"] in guard[2] and record["term"] > guard[1]:
            count += 1
            first = first or (t, (record["node"],))
            guard = None
        cluster.apply(record)
    if not count:
        return Verdict(name, True, "no rejoining node raised a settled majority's term")
    assert first is not None
    detail = f"{plural(count, 'heal')} raised a settled majority's term; first at {first[0]:.4f} s"
    return Verdict(name, False, detail, first[0], first[1])


def only_voters_lead(records: Sequence[Record]) -> Verdict:
    name, cluster = "only voters lead", Cluster()
    for record in records:
        cluster.apply(record)
        if record["event"] == "role" and record["role"] == "leader":
            kind = cluster.extras.get(record["node"])
            if kind is not None:
                detail = (
                    f"{record['node']} ({kind}, not a voter) became leader of term "
                    f"{record['term']} at {record['t']:.4f} s"
                )
                return Verdict(name, False, detail, record["t"], (record["node"],))
    if not cluster.extras:
        return Verdict(name, None, "not checked: no extra nodes")
    return Verdict(name, True, f"no extra node ({', '.join(cluster.extras)}) ever led")


# --8<-- [end:partitions]
