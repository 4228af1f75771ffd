"""Replaying a trace: the cluster's state event by event, and the checkers' verdicts.

The checkers (:mod:`.checkers`, :mod:`.partitions`) read nothing but the trace: they
replay its records through a :class:`Cluster` and report a :class:`Verdict`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from workbench.sim.trace import Record


@dataclass(frozen=True)
class Verdict:
    """One checker's finding: ``ok`` is None when the property could not be checked."""

    name: str
    ok: bool | None
    detail: str
    at: float | None = None  # when the first violation happened
    nodes: tuple[str, ...] = ()  # who was involved


CHANGES = frozenset({"role", "crash", "restart", "pause", "resume", "partition", "heal", "join"})


# --8<-- [start:replay]
@dataclass
class Cluster:
    """The cluster's state as the trace tells it, event by event."""

    nodes: tuple[str, ...] = ()  # every node of the run, from the start record
    voters: tuple[str, ...] = ()  # the nodes that vote: all but the extra ones
    extras: dict[str, str] = field(default_factory=dict)  # extra node -> its kind
    roles: dict[str, tuple[str, str | None, int]] = field(default_factory=dict)
    crashed: set[str] = field(default_factory=set)
    paused: set[str] = field(default_factory=set)
    partitioned: bool = False
    groups: tuple[tuple[str, ...], ...] = ()  # the sides of the partition, if any
    back_at: dict[str, float] = field(default_factory=dict)  # last restart or resume
    healed_at: float = float("-inf")  # when the last partition healed

    def apply(self, record: Record) -> bool:
        """Take one record into account; say whether it changed who runs or leads."""
        event, node = record["event"], record.get("node", "")
        if event == "start":
            self.nodes = tuple(record["nodes"])
            self.extras = dict(record.get("extras", {}))
            self.voters = tuple(node for node in self.nodes if node not in self.extras)
        if event not in CHANGES:
            return False
        t = record["t"]
        if event == "role":
            self.roles[node] = (record["role"], record["leader"], record["term"])
        elif event == "crash":
            self.crashed.add(node)
            self.paused.discard(node)
        elif event in ("restart", "join"):
            self.crashed.discard(node)
            self.back_at[node] = t
        elif event == "pause":
            self.paused.add(node)
        elif event == "resume":
            self.paused.discard(node)
            self.back_at[node] = t
        elif event == "partition":
            self.partitioned, self.groups = True, tuple(map(tuple, record["groups"]))
        else:  # heal
            self.partitioned, self.groups, self.healed_at = False, (), t
        return True

    def running(self) -> list[str]:
        return [n for n in sorted(self.roles) if n not in self.crashed and n not in self.paused]

    def leaders(self) -> list[str]:
        return [node for node in self.running() if self.roles[node][0] == "leader"]

    def side(self, node: str) -> tuple[str, ...]:
        """The nodes that ``node`` can reach: its side of the partition, or every node."""
        return next((group for group in self.groups if node in group), self.nodes)

    def agreed_leader(self, among: Iterable[str] | None = None) -> str | None:
        """The leader that every running node (of ``among``) follows, at its own term."""
        running = self.running() if among is None else [n for n in self.running() if n in among]
        leaders = [node for node in running if self.roles[node][0] == "leader"]
        if len(leaders) != 1:
            return None
        leader = leaders[0]
        agreed = ("follower", leader, self.roles[leader][2])
        followers = (node for node in running if node != leader)
        return leader if all(self.roles[node] == agreed for node in followers) else None


# --8<-- [end:replay]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "es" if noun.endswith("ch") else "s")
