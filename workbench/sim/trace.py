"""The trace: everything that happened in a run, one record per event, in virtual time.

A record is a dictionary that starts with ``t`` (virtual seconds, rounded to the
microsecond) and ``event``; the rest depends on the event::

    {"t": 0.5312, "event": "role", "node": "n3", "role": "candidate", "term": 1, "leader": null}
    {"t": 0.5312, "event": "send", "id": 41, "from": "n3", "to": "n5", "msg": {...}}
    {"t": 0.5361, "event": "deliver", "id": 41, "from": "n3", "to": "n5", "type": "election"}

Keys are always written in the same order and times are rounded, so the same run
gives the same bytes: two traces can be compared with ``cmp``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

Record = dict[str, Any]
CHATTER = frozenset({"heartbeat", "heartbeat_ack"})  # what a settled cluster sends all day


class Trace:
    def __init__(self) -> None:
        self.records: list[Record] = []

    def add(self, t: float, event: str, fields: Record | None = None) -> None:
        self.records.append({"t": round(t, 6), "event": event, **(fields or {})})

    def to_jsonl(self) -> str:
        return "".join(json.dumps(record) + "\n" for record in self.records)


# -- the timeline: the same story, for a person -----------------------------------------


def timeline(records: Iterable[Record]) -> str:
    """One line per event worth reading; heartbeats are counted, not listed (nor their acks)."""
    lines, heartbeats = [], 0
    for record in records:
        kind = record.get("type", record.get("msg", {}).get("type"))
        if kind in CHATTER:
            heartbeats += record["event"] == "send" and kind == "heartbeat"
            continue
        text = describe(record)
        if text:
            lines.append(f"{record['t']:9.4f}  {text}")
    lines.append(f"({heartbeats} heartbeats sent, not listed)")
    return "\n".join(lines) + "\n"


def describe(record: Record) -> str | None:
    """A record in words, or None for those the timeline leaves out (deliveries)."""
    event, node = record["event"], record.get("node")
    if event == "start":
        nodes = ", ".join(record["nodes"])
        extras = "".join(f", {node} {kind}" for node, kind in record.get("extras", {}).items())
        if extras:
            nodes = ", ".join(n for n in record["nodes"] if n not in record["extras"])
            return (
                f"start: {record['algorithm']}, seed {record['seed']}, voters {nodes}; "
                f"extra nodes, absent until they join:{extras[1:]}"
            )
        return f"start: {record['algorithm']}, seed {record['seed']}, nodes {nodes}"
    if event == "role":
        if record["role"] == "follower":
            of = f"of {record['leader']}" if record["leader"] else "(leader unknown)"
            return f"{node} is follower {of} at term {record['term']}"
        return f"{node} is {record['role']} at term {record['term']}"
    if event == "send":
        message = record["msg"]
        extra = "".join(f", {word}" for word in _extras(message))
        return (
            f"{record['from']} -> {record['to']}  {message['type']} (term {message['term']}{extra})"
        )
    if event == "drop":
        return f"{record['from']} -> {record['to']}  {record['type']} lost ({record['reason']})"
    if event == "hold":
        return (
            f"{record['from']} -> {record['to']}  {record['type']} waits: {record['to']} is paused"
        )
    if event == "duplicate":
        return f"{record['from']} -> {record['to']}  {record['type']} will arrive twice"
    if event == "partition":
        return "partition " + " | ".join(",".join(group) for group in record["groups"])
    if event == "join":
        return f"join {node}: an extra node ({record['kind']}) starts"
    if event in ("crash", "restart", "pause", "resume"):
        return f"{event} {node}"
    if event == "members":
        return "registry lists " + (", ".join(record["nodes"]) or "nobody")
    if event == "heal":
        return "heal: the partition is over"
    if event == "registry-restart":
        return "registry-restart: it lists nobody until the nodes' next heartbeats"
    if event == "calm":
        return "calm: no more faults from here on"
    if event == "end":
        return "end"
    return None


def _extras(message: Record) -> list[str]:
    """A message's own fields in words: ``leader n2``, ``pre-vote``, ``granted``/``refused``."""
    words = []
    for key, value in message.items():
        if key in ("type", "sender", "term") or value is None:
            continue
        if key == "granted":
            words.append("granted" if value else "refused")
        elif value is True:
            words.append(key.replace("_", "-"))
        elif value is not False:
            words.append(f"{key} {value}")
    return words
