"""The checkers of a replicated log: Raft's Figure 3 properties, and the clients' history.

They read only the trace (:mod:`~workbench.sim.logsim` records each node's new entries as
``log``, what it finds on its disk at a start as ``restored``, what it applies as
``apply``, and the clients' calls and returns as ``op``), and each reports the first
violation, with its time and the nodes involved:

* **log matching**: two entries with the same index and term follow the same entries;
* **leader completeness**: a leader of a newer term than any before an entry's apply
  holds that entry;
* **state-machine safety**: no two nodes apply different entries at one index;
* **acknowledged writes kept**: what a client was told is written is what every node
  applies at its index, and the last leader holds it;
* **synced before sent**: a restarted node has every entry it acknowledged, and its vote;
* **linearizable**: the history passes :func:`workbench.history.checker.check`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from stages.v2_1_election.core import Timings
from workbench.history.checker import check as check_history
from workbench.history.events import event, operations
from workbench.sim.checkers import election_safety
from workbench.sim.replay import Verdict
from workbench.sim.trace import Record

MAX_STEPS = 200_000  # the linearizability search's budget per key: "unknown" beyond it

Slot = tuple[int, str]  # an entry as the trace names it: (term, "c1.5" or "no-op")


def log_checks(records: Sequence[Record], timings: Timings) -> list[Verdict]:
    return [
        election_safety(records),
        log_matching(records),
        leader_completeness(records),
        state_machine_safety(records),
        acknowledged_writes_kept(records),
        synced_before_sent(records),
        linearizable(records),
        bounded_traffic(records),
    ]


def bounded_traffic(records: Sequence[Record]) -> Verdict:
    """The run did not stop early for a storm of messages (a liveness failure, not safety)."""
    stopped = next((r for r in records if r["event"] == "stopped"), None)
    if stopped is None:
        return Verdict("bounded traffic", True, "the run went to its end")
    detail = f"stopped at {stopped['t']:.4f} s: {stopped['reason']}, a storm"
    return Verdict("bounded traffic", False, detail, stopped["t"])


def _logs(
    records: Sequence[Record], logs: dict[str, list[Slot]] | None = None
) -> Iterator[tuple[Record, dict[str, list[Slot]]]]:
    """Each record, with every node's log (kept in ``logs``) as it is once it happened."""
    logs = {} if logs is None else logs
    for record in records:
        if record["event"] == "restored":
            logs[record["node"]] = [(term, id) for term, id in record["entries"]]
        elif record["event"] == "log":
            log = logs.setdefault(record["node"], [])
            del log[record["from"] - 1 :]
            log.extend((term, id) for term, id in record["entries"])
        yield record, logs


def _applied(record: Record) -> Iterator[tuple[int, Slot]]:
    for offset, (term, id) in enumerate(record["entries"]):
        yield record["from"] + offset, (term, id)


def log_matching(records: Sequence[Record]) -> Verdict:
    """Each node's log as a chain of prefix hashes: an entry's hash covers all before it."""
    first: dict[tuple[int, int], tuple[int, str]] = {}  # (index, term) -> (prefix hash, node)
    chains: dict[str, list[int]] = {}  # node -> the prefix hash at each index
    for record in records:
        if record["event"] not in ("log", "restored"):
            continue
        node, start = record["node"], record.get("from", 1)
        chain = chains.setdefault(node, [])
        del chain[start - 1 :]
        for index, (term, id) in enumerate(record["entries"], start=start):
            chain.append(hash((chain[-1] if chain else 0, term, id)))
            seen = first.setdefault((index, term), (chain[-1], node))
            if seen[0] != chain[-1]:
                detail = (
                    f"{node} and {seen[1]} both hold an entry {index} of term {term}, "
                    f"after different entries (at {record['t']:.4f} s)"
                )
                return Verdict("log matching", False, detail, record["t"], (seen[1], node))
    return Verdict("log matching", True, f"{len(first)} entries, each after one history")


def leader_completeness(records: Sequence[Record]) -> Verdict:
    """Raft's property is by term: an entry committed in term C is in the log of every
    leader of a term after C. The trace shows when an entry is applied, not in which term it
    was committed, but that term had its leader before the apply: so a leader whose term is
    above every leader's term before the apply must hold the entry. (Not every leader
    elected later in time: a candidate paused after its votes arrived may still win an
    older term, and owes nothing to entries committed in newer ones.)"""
    committed: dict[int, tuple[Slot, int]] = {}  # index -> (entry, the newest leader's term)
    newest = 0  # the highest term any leader has had so far
    elected = 0
    for record, logs in _logs(records):
        if record["event"] == "apply":
            for index, slot in _applied(record):
                committed.setdefault(index, (slot, newest))
        elif record["event"] == "role" and record["role"] == "leader":
            elected += 1
            log, term = logs.get(record["node"], []), record["term"]
            for index, (slot, before) in sorted(committed.items()):
                if term > before and (index > len(log) or log[index - 1] != slot):
                    detail = (
                        f"{record['node']} became leader of term {term} at {record['t']:.4f} s "
                        f"without entry {index} ({slot[1]}, term {slot[0]}), applied before, so "
                        f"committed in term {before} or earlier"
                    )
                    return Verdict("leader completeness", False, detail, record["t"],
                                   (record["node"],))  # fmt: skip
            newest = max(newest, term)
    return Verdict("leader completeness", True, f"{elected} leaders, each with every entry")


def state_machine_safety(records: Sequence[Record]) -> Verdict:
    applied: dict[int, tuple[Slot, str]] = {}
    for record in records:
        if record["event"] != "apply":
            continue
        for index, slot in _applied(record):
            first, by = applied.setdefault(index, (slot, record["node"]))
            if first != slot:
                detail = (
                    f"{record['node']} applied {slot[1]} (term {slot[0]}) at index {index} at "
                    f"{record['t']:.4f} s; {by} had applied {first[1]} (term {first[0]})"
                )
                return Verdict("state-machine safety", False, detail, record["t"],
                               (by, record["node"]))  # fmt: skip
    return Verdict("state-machine safety", True, f"{len(applied)} entries, the same everywhere")


def acknowledged_writes_kept(records: Sequence[Record]) -> Verdict:
    name = "acked writes kept"
    acked: dict[int, tuple[str, float]] = {}  # index -> (entry, when acknowledged)
    last_leader: tuple[int, str] | None = None
    logs: dict[str, list[Slot]] = {}
    for record, _ in _logs(records, logs):
        event = record["event"]
        if event == "op" and record["type"] == "ok" and record["f"] != "read":
            acked.setdefault(record["index"], (record["entry"], record["t"]))
        elif event == "role" and record["role"] == "leader":
            if last_leader is None or record["term"] > last_leader[0]:
                last_leader = (record["term"], record["node"])
        elif event == "apply":
            for index, (_, id) in _applied(record):
                if index in acked and acked[index][0] != id:
                    detail = (
                        f"{record['node']} applied {id} at index {index} at {record['t']:.4f} s, "
                        f"where {acked[index][0]} was acknowledged at {acked[index][1]:.4f} s"
                    )
                    return Verdict(name, False, detail, record["t"], (record["node"],))
    if last_leader is not None:
        log = logs.get(last_leader[1], [])
        for index, (id, at) in sorted(acked.items()):
            if index > len(log) or log[index - 1][1] != id:
                detail = (
                    f"{id}, acknowledged at {at:.4f} s at index {index}, is not in the log of "
                    f"{last_leader[1]}, the leader of the last term ({last_leader[0]})"
                )
                return Verdict(name, False, detail, records[-1]["t"], (last_leader[1],))
    return Verdict(name, True, f"{len(acked)} acknowledged writes, all kept")


def synced_before_sent(records: Sequence[Record]) -> Verdict:
    """A node never restarts without what it told others it had: the entries it acknowledged
    (unless it cut them since) and the term of its last vote."""
    name = "synced before sent"
    promised: dict[str, tuple[int, int]] = {}  # node -> (entries acknowledged, term voted in)
    for record in records:
        event = record["event"]
        if event not in ("send", "log", "restored"):
            continue
        node: str = record["from"] if event == "send" else record["node"]
        entries, voted = promised.get(node, (0, 0))
        if event == "send":
            message = record["msg"]
            if message["type"] == "append_entries_reply" and message["success"]:
                entries = max(entries, message["match_index"])
            elif message["type"] == "vote" and message["granted"] and not message["pre_vote"]:
                voted = max(voted, message["term"])
        elif event == "log":
            entries = min(entries, record["from"] - 1)  # a cut: no longer promised
        elif event == "restored":
            kept, term = len(record["entries"]), record["term"]
            if kept < entries or term < voted:
                detail = (
                    f"{node} restarted at {record['t']:.4f} s with {kept} entries and term "
                    f"{term}, having acknowledged {entries} entries and voted in term {voted}"
                )
                return Verdict(name, False, detail, record["t"], (node,))
        promised[node] = (entries, voted)
    return Verdict(name, True, "every restart found what the node had acknowledged")


def history_lines(records: Sequence[Record]) -> list[str]:
    """The clients' history, in the checker's JSON Lines format (``ddb check`` reads it)."""
    fields = ("process", "type", "f", "key", "value", "node")
    return [
        json.dumps({k: record[k] for k in fields if k in record})
        for record in records
        if record["event"] == "op"
    ]


def linearizable(records: Sequence[Record]) -> Verdict:
    lines = history_lines(records)
    events = (event(number, json.loads(line)) for number, line in enumerate(lines, start=1))
    verdict = check_history(operations(events), max_steps=MAX_STEPS)
    count = f"{verdict.operations} operations on {len(verdict.keys)} keys"
    if verdict.linearizable is None:
        return Verdict("linearizable", None, f"not decided within the budget: {count}")
    if verdict.linearizable:
        return Verdict("linearizable", True, count)
    failed = verdict.failed[0]
    stuck = f"; {failed.stuck} cannot be placed" if failed.stuck else ""
    detail = f"key {failed.key!r} is not linearizable{stuck} (history line numbers)"
    return Verdict("linearizable", False, detail, None, ())
