"""The nemesis: the faults of a run, from a scenario file or drawn at random from the seed.

A scenario is one fault per line, ``TIME ACTION [ARGUMENTS]``, times in virtual seconds::

    # the leader dies, and comes back
    1.0 crash n5
    4.0 restart n5
    5.0 pause n2           # kill -STOP: no ticks, messages wait in a queue
    6.5 resume n2          # kill -CONT: the queue is delivered, in order, then it ticks
    8.0 partition n1,n2 | n3,n4,n5
    11.0 heal
    12.0 registry-restart  # the registry comes back empty, and fills up again
    13.0 join n6           # an extra node (``--extras``), absent until now, starts

Every node must be on one side of a partition, extra nodes too, started or not. Faults
stop at the last line; from then on the checkers expect the cluster to settle.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ACTIONS = ("crash", "restart", "pause", "resume", "partition", "heal", "registry-restart", "join")
KINDS = {  # default rates, faults per second
    "crash": 0.1,
    "pause": 0.1,
    "partition": 0.05,
    "registry-restart": 0.05,
    "extra-nodes": 0.2,  # an extra node joins (or comes back), and may leave again
}


class ScenarioError(ValueError):
    """A scenario line that cannot be run, with the line number and the reason."""


# --8<-- [start:fault]
@dataclass(frozen=True)
class Fault:
    """One thing the nemesis does at virtual time ``at``."""

    at: float
    action: str  # one of ACTIONS
    node: str | None = None  # crash, restart, pause, resume, join
    groups: tuple[tuple[str, ...], ...] = ()  # partition

    def __str__(self) -> str:
        """The fault as a scenario line, so that a random schedule can be saved and edited."""
        at = f"{round(self.at, 6)!r}"
        if self.action == "partition":
            return f"{at} partition " + " | ".join(",".join(group) for group in self.groups)
        return f"{at} {self.action}" + (f" {self.node}" if self.node else "")


# --8<-- [end:fault]


def node_names(count: int) -> list[str]:
    return [f"n{i}" for i in range(1, count + 1)]


def parse_scenario(text: str, nodes: Sequence[str], absent: Sequence[str] = ()) -> list[Fault]:
    """Read a scenario; raise :class:`ScenarioError` naming the first bad line.
    ``absent``: the extra nodes, which only a ``join`` starts."""
    faults: list[Fault] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            fault = _parse_line(line)
            if faults and fault.at < faults[-1].at:
                raise ScenarioError(f"time {fault.at:g} is before the previous line's")
            check_faults([*faults, fault], nodes, absent)
        except ScenarioError as exc:
            raise ScenarioError(f"line {number}: {exc}") from None
        faults.append(fault)
    return faults


def _parse_line(line: str) -> Fault:
    time_text, _, rest = line.partition(" ")
    action, _, arguments = rest.strip().partition(" ")
    try:
        at = float(time_text)
    except ValueError:
        raise ScenarioError(f"{time_text!r} is not a time in seconds") from None
    if not at >= 0 or at == float("inf"):
        raise ScenarioError(f"the time must be a number of seconds >= 0, not {time_text}")
    if action not in ACTIONS:
        raise ScenarioError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    arguments = arguments.strip()
    if action in ("heal", "registry-restart"):
        if arguments:
            raise ScenarioError(f"{action} takes no arguments")
        return Fault(at, action)
    if action == "partition":
        groups = tuple(
            tuple(name.strip() for name in side.split(",") if name.strip())
            for side in arguments.split("|")
        )
        if len(groups) < 2 or not all(groups):
            raise ScenarioError("a partition needs two or more groups: n1,n2 | n3,n4,n5")
        return Fault(at, action, groups=groups)
    if not arguments or " " in arguments:
        raise ScenarioError(f"{action} takes one node name, such as {action} n2")
    return Fault(at, action, node=arguments)


# --8<-- [start:check_faults]
def check_faults(faults: Iterable[Fault], nodes: Sequence[str], absent: Sequence[str] = ()) -> None:
    """Play the faults in order and refuse one that cannot happen (restart a live node...).
    ``absent``: nodes that have not started; ``join`` starts one, once."""
    crashed: set[str] = set()
    never = set(absent)
    paused: set[str] = set()
    partitioned = False
    for fault in faults:
        node = fault.node or ""
        if fault.node is not None and node not in nodes:
            raise ScenarioError(f"no node {node}; the nodes are {', '.join(nodes)}")
        if node in never and fault.action != "join":
            raise ScenarioError(f"{node} has not joined yet: join {node} first")
        if fault.action == "join":
            if node not in never:
                what = "not an extra node (see --extras)" if node not in absent else "in already"
                raise ScenarioError(f"only an extra node joins, once; {node} is {what}")
            never.remove(node)
        elif fault.action == "crash":
            if node in crashed:
                raise ScenarioError(f"{node} has already crashed")
            crashed.add(node)
            paused.discard(node)  # kill -9 ends a stopped process too
        elif fault.action == "restart":
            if node not in crashed:
                raise ScenarioError(f"{node} has not crashed")
            crashed.remove(node)
        elif fault.action == "pause":
            if node in crashed or node in paused:
                raise ScenarioError(f"{node} is not running")
            paused.add(node)
        elif fault.action == "resume":
            if node not in paused:
                raise ScenarioError(f"{node} is not paused")
            paused.remove(node)
        elif fault.action == "partition":
            _check_groups(fault.groups, nodes)
            partitioned = True
        elif fault.action == "heal":
            if not partitioned:
                raise ScenarioError("there is no partition to heal")
            partitioned = False


def _check_groups(groups: Sequence[Sequence[str]], nodes: Sequence[str]) -> None:
    named = [node for group in groups for node in group]
    unknown = sorted(set(named) - set(nodes))
    if unknown:
        raise ScenarioError(f"no node {unknown[0]}; the nodes are {', '.join(nodes)}")
    if len(named) != len(set(named)):
        raise ScenarioError("a node is on two sides of the partition")
    missing = [node for node in nodes if node not in named]
    if missing:
        raise ScenarioError(f"every node must be on one side; {', '.join(missing)} is on none")


# --8<-- [end:check_faults]


def parse_kinds(text: str) -> dict[str, float]:
    """``crash,pause`` or ``crash=0.2,partition`` -> rate (faults per second) per kind."""
    kinds: dict[str, float] = {}
    for item in text.split(","):
        kind, _, rate_text = item.strip().partition("=")
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(KINDS)}")
        try:
            rate = float(rate_text) if rate_text else KINDS[kind]
        except ValueError:
            raise ValueError(f"{rate_text!r} is not a rate (faults per second)") from None
        if not 0 < rate < float("inf"):
            raise ValueError(f"the rate of {kind} must be greater than 0")
        kinds[kind] = rate
    return kinds


# --8<-- [start:random_faults]
def random_faults(
    nodes: Sequence[str],
    kinds: dict[str, float],
    until: float,
    rng: random.Random,
    extras: Sequence[str] = (),
) -> list[Fault]:
    """Draw faults at the given rates until ``until``, by which time every fault has ended.

    Crashes and pauses last from a fraction of a second to longer than the registry's
    TTL; at most all but one node are down at once. One partition at a time, with the
    ``extras`` on its sides too. An extra node joins (or comes back) at the rate of
    ``extra-nodes``, and leaves (crashes) after up to eight seconds, or stays.
    """
    everyone = [*nodes, *extras]
    away_until: dict[str, float] = {}  # an extra node that joined -> when it leaves
    starts = sorted(
        (at, kind) for kind, rate in sorted(kinds.items()) for at in _poisson(rate, until, rng)
    )
    faults: list[Fault] = []
    down: dict[str, float] = {}  # node -> when it comes back
    healed_at = 0.0
    for at, kind in starts:
        down = {node: back for node, back in down.items() if back > at}
        if kind == "registry-restart":
            faults.append(Fault(at, kind))
            continue
        if kind == "extra-nodes":
            faults += _extra_node(extras, away_until, at, until, rng)
            continue
        if kind == "partition":
            if at < healed_at:
                continue
            shuffled = rng.sample(everyone, len(everyone))
            cut = rng.randint(1, len(everyone) - 1)
            groups = tuple(
                tuple(sorted(side, key=everyone.index)) for side in (shuffled[:cut], shuffled[cut:])
            )
            healed_at = min(round(at + rng.uniform(0.5, 5.0), 3), until)
            faults += [Fault(at, "partition", groups=groups), Fault(healed_at, "heal")]
            continue
        up = [node for node in nodes if node not in down]
        if len(up) < 2:
            continue
        node = rng.choice(up)
        longest = 8.0 if kind == "crash" else 3.0
        down[node] = min(round(at + rng.uniform(0.1, longest), 3), until)
        ending = "restart" if kind == "crash" else "resume"
        faults += [Fault(at, kind, node), Fault(down[node], ending, node)]
    faults.sort(key=lambda fault: fault.at)  # stable: an end never moves before its start
    return faults


# --8<-- [end:random_faults]


def _extra_node(
    extras: Sequence[str],
    away_until: dict[str, float],
    at: float,
    until: float,
    rng: random.Random,
) -> list[Fault]:
    """One extra node that is not running joins (or restarts), and may leave later."""
    away = [node for node in extras if away_until.get(node, -1.0) < at]
    if not away:
        return []
    node = rng.choice(away)
    faults = [Fault(at, "join" if node not in away_until else "restart", node)]
    leaves = round(at + rng.uniform(0.5, 8.0), 3)
    if leaves < until:
        faults.append(Fault(leaves, "crash", node))
        away_until[node] = leaves
    else:
        away_until[node] = float("inf")  # it stays to the end
    return faults


def _poisson(rate: float, until: float, rng: random.Random) -> list[float]:
    times, at = [], rng.expovariate(rate)
    while at < until:
        times.append(round(at, 3))
        at += rng.expovariate(rate)
    return times
