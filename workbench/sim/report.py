"""What a run comes to: the summary a person reads, and what the algorithm promised.

A checker's verdict counts against an algorithm only if the algorithm claims that
property *for the faults the run had*: Bully promises one leader per term only while
no message is lost, so a split brain under a partition is a lesson, not a failure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from workbench.sim.algorithms import SIM_ALGORITHMS
from workbench.sim.checkers import Cluster, Verdict
from workbench.sim.trace import Record


def faults_seen(records: Sequence[Record]) -> set[str]:
    """The kinds of fault a run had: crash, pause, partition, and lost (messages)."""
    seen = {r["event"] for r in records if r["event"] in ("crash", "pause", "partition")}
    if any(r["event"] == "drop" and r["reason"] == "lost" for r in records):
        seen.add("lost")
    return seen


# --8<-- [start:claimed]
def claimed(algorithm: str, verdict: Verdict, faults: set[str]) -> bool:
    """Does ``algorithm`` promise the property ``verdict`` checked, given these faults?
    (Its entry says; an algorithm without one promises nothing.)"""
    entry = SIM_ALGORITHMS.get(algorithm)
    return entry is not None and entry.claimed(verdict, faults)


def broken_promises(algorithm: str, verdicts: Sequence[Verdict], faults: set[str]) -> list[str]:
    return [v.name for v in verdicts if v.ok is False and claimed(algorithm, v, faults)]


# --8<-- [end:claimed]


@dataclass(frozen=True)
class Budget:
    elections: int  # leaderless stretches in which somebody stood for election
    election_messages: int
    settled_seconds: float  # time during which every running node followed one leader
    settled_messages: int
    electing_seconds: float = 0.0  # leaderless stretches with a candidate, until agreement

    def __str__(self) -> str:
        per_election = self.election_messages / self.elections if self.elections else 0.0
        per_second = self.settled_messages / self.settled_seconds if self.settled_seconds else 0.0
        return (
            f"{self.elections} leaderless stretch{'' if self.elections == 1 else 'es'}, "
            f"{per_election:.1f} messages each; "
            f"{per_second:.1f} messages per settled second"
        )


def budget(records: Sequence[Record]) -> Budget:
    """Count the messages sent while electing, and while settled."""
    cluster, settled_since, stood = Cluster(), None, False
    elections = election_messages = settled_messages = 0
    settled_seconds = electing_seconds = unsettled_since = 0.0
    for record in records:
        if record["event"] == "send":
            if settled_since is None:
                election_messages += 1
            else:
                settled_messages += 1
        if not cluster.apply(record):
            continue
        if record["event"] == "role" and record["role"] == "candidate":
            stood = True  # somebody stands for election in this leaderless stretch
        settled = cluster.agreed_leader() is not None
        if settled and settled_since is None:
            settled_since = record["t"]
            elections += stood
            electing_seconds += record["t"] - unsettled_since if stood else 0.0
            stood = False
        elif not settled and settled_since is not None:
            settled_seconds += record["t"] - settled_since
            settled_since, unsettled_since = None, record["t"]
    if settled_since is not None:
        settled_seconds += records[-1]["t"] - settled_since
    return Budget(
        elections + stood, election_messages, settled_seconds, settled_messages, electing_seconds
    )


def summary(records: Sequence[Record], verdicts: Sequence[Verdict], bound: float) -> str:
    """The summary of one run, as ``ddb simulate`` prints it."""
    header = records[0]
    algorithm, faults = header["algorithm"], faults_seen(records)
    events = Counter(r["event"] for r in records)
    dropped = Counter(r["reason"] for r in records if r["event"] == "drop")
    leaders: dict[int, list[str]] = {}  # more than one in a term: election safety broke
    for r in records:
        if r["event"] == "role" and r["role"] == "leader":
            nodes = leaders.setdefault(r["term"], [])
            if r["node"] not in nodes:
                nodes.append(r["node"])
    fault_counts = [f"{events[k]} {k}" for k in _KINDS if events[k]]
    if dropped["lost"]:  # --drop: the network itself was faulty
        fault_counts.append(f"{dropped['lost']} messages lost")
    calm = f", faults until {header['calm_at']:g} s" if header["faults"] or faults else ""
    extras = header.get("extras", {})
    beside = f" ({len(header['nodes']) - len(extras)} voters, {_extras(extras)})" if extras else ""
    lines = [
        f"seed {header['seed']}: {algorithm}, {len(header['nodes'])} nodes{beside}, "
        f"{header['duration']:g} s of virtual time{calm}",
        "faults: " + (", ".join(fault_counts) or "none"),
        f"elections: {_count(records, 'candidate')} candidacies; leaders by term: "
        + (
            ", ".join(f"{term} {'+'.join(nodes)}" for term, nodes in sorted(leaders.items()))
            or "none"
        ),
        f"messages: {events['send']} sent, {events['deliver']} delivered, "
        f"{sum(dropped.values())} dropped{_reasons(dropped)}",
        f"budget: {budget(records)}",
        f"checks (liveness bound {bound:g} s after the faults stop):",
    ]
    for verdict in verdicts:
        status = {True: "ok", False: "VIOLATED", None: "-"}[verdict.ok]
        line = f"  {status:<9}{verdict.name}: {verdict.detail}"
        if verdict.ok is False and not claimed(algorithm, verdict, faults):
            line += f" (not claimed by {algorithm} with these faults)"
        lines.append(line)
    return "\n".join(lines)


_KINDS = ("crash", "restart", "pause", "resume", "partition", "heal", "registry-restart", "join")


def _extras(extras: dict[str, str]) -> str:
    kinds = Counter(extras.values())
    return " and ".join(f"{n} {kind}{'' if n == 1 else 's'}" for kind, n in kinds.items())


def _reasons(dropped: Counter[str]) -> str:
    if not dropped:
        return ""
    return " (" + ", ".join(f"{count} {why}" for why, count in sorted(dropped.items())) + ")"


def _count(records: Sequence[Record], role: str) -> int:
    return sum(1 for r in records if r["event"] == "role" and r["role"] == role)
