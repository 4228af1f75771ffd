"""What went wrong in a run, named: the anomalies a report over many runs counts.

The checker answers one question, whether a history is linearizable, and shows the first
operation it cannot place. A report over many runs wants more: which kind of thing went
wrong, so that "7 of 10 runs invalid" can say how. Three kinds have simple witnesses in a
history of unique writes with no deletes (what ``ddb workload`` records):

* a **stale read**: a follower answered a read with a value although, before the read
  began, a newer one had been written and acknowledged, or read by someone. "Newer" is real
  time: its write was called after the older one's write had returned (so no order of the
  two is possible);
* a **lost write**: the same, answered by the leader (the node that takes every write has
  not got an acknowledged one), or, after the faults end, the leader holds a value older
  than a write that was acknowledged;
* **replicas disagree**: after the faults end, the nodes' stores differ.

A history can be invalid with none of these (two concurrent writes that two readers see in
opposite orders): that is counted as ``other``. Pure: no clock, no network.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from workbench.history.events import NEVER, Operation

STALE_READ = "stale read"
LOST_WRITE = "lost write"
DISAGREE = "replicas disagree"
OTHER = "other"
ANOMALIES = (STALE_READ, LOST_WRITE, DISAGREE, OTHER)


@dataclass(frozen=True)
class Finding:
    anomaly: str
    key: str | None
    example: str  # one witness, in words


@dataclass(frozen=True)
class FinalRead:
    """What one node held for one key once the faults had ended and the cluster settled."""

    node: str
    leads: bool
    key: str
    value: object  # None: the node does not have the key


def _by_key(ops: Sequence[Operation]) -> dict[str | None, list[Operation]]:
    keys: dict[str | None, list[Operation]] = {}
    for op in ops:
        keys.setdefault(op.key, []).append(op)
    return keys


def _written_at(ops: Sequence[Operation]) -> dict[object, Operation]:
    return {op.value: op for op in ops if op.f == "write"}


# --8<-- [start:stale_reads]
def stale_reads(ops: Sequence[Operation], roles: dict[int, str]) -> list[Finding]:
    """The first stale read of each key: a read of ``v`` that began after a value newer
    than ``v`` was known (its write acknowledged, or the value read). ``roles``: the role of
    the node that answered, by the line of the answer; a leader's stale read is a lost write."""
    findings = []
    for key, part in _by_key(ops).items():
        writes = _written_at(part)
        known = sorted(  # each value known, by when it became known
            (op for op in part if op.status == "ok" and op.value in writes),
            key=lambda op: op.ret,
        )
        returns = [op.ret for op in known]
        newest: list[Operation] = []  # for each prefix of known: the latest-written value
        for op in known:
            if not newest or writes[op.value].call > writes[newest[-1].value].call:
                newest.append(op)
            else:
                newest.append(newest[-1])
        reads = sorted((op for op in part if op.f == "read" and op.status == "ok"),
                       key=lambda op: op.call)  # fmt: skip
        kinds = set()
        for read in reads:
            if read.value is not None and read.value not in writes:
                continue  # a value nobody wrote: the checker says so; not this kind
            before = bisect.bisect_left(returns, read.call)  # known before the read began
            if before == 0:
                continue
            witness = newest[before - 1]
            # None is the key's first value, older than any write; an info write's value
            # may have been written at any time, so it is never "overwritten" for sure.
            written = -1.0 if read.value is None else writes[read.value].ret
            if written == NEVER or writes[witness.value].call < written:
                continue
            kind = LOST_WRITE if roles.get(int(read.ret)) == "leader" else STALE_READ
            if kind not in kinds:
                kinds.add(kind)
                by = "the leader" if kind == LOST_WRITE else "a follower"
                findings.append(Finding(kind, key, f"{read}, {by}, after {witness}"))
    return findings


# --8<-- [end:stale_reads]


# --8<-- [start:lost_writes]
def lost_writes(ops: Sequence[Operation], finals: Sequence[FinalRead]) -> list[Finding]:
    """Each key whose final value on the leader is older than an acknowledged write."""
    findings = []
    for final in finals:
        if not final.leads:
            continue
        part = [op for op in ops if op.key == final.key]
        writes = _written_at(part)
        held = writes.get(final.value)
        held_ret = -1.0 if held is None else held.ret
        lost = [op for op in part if op.f == "write" and op.status == "ok" and op.call > held_ret]
        if lost:
            last = max(lost, key=lambda op: op.call)
            findings.append(
                Finding(LOST_WRITE, final.key,
                        f"{final.node} leads and holds {final.value!r}, "
                        f"but {len(lost)} later acknowledged writes are gone, the last {last}")
            )  # fmt: skip
    return findings


# --8<-- [end:lost_writes]


def disagreement(digests: dict[str, str | None]) -> list[Finding]:
    """The nodes' stores differ (or a node could not say what it holds)."""
    if len(set(digests.values())) <= 1:
        return []
    shown = ", ".join(f"{node} {digest or 'no answer'}" for node, digest in sorted(digests.items()))
    return [Finding(DISAGREE, None, f"the stores' digests differ: {shown}")]


def name_anomalies(
    ops: Sequence[Operation],
    finals: Sequence[FinalRead],
    digests: dict[str, str | None],
    linearizable: bool | None,
    roles: dict[int, str] | None = None,
) -> list[Finding]:
    """Every kind found in one run; ``other`` when the checker failed it and none was."""
    findings = [*stale_reads(ops, roles or {}), *lost_writes(ops, finals), *disagreement(digests)]
    if linearizable is False and not findings:
        findings.append(Finding(OTHER, None, "not linearizable: see the checker's order"))
    return findings
