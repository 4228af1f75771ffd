"""Simulated clients of the replicated log: what each one asks, and the history it leaves.

A client does one operation at a time, on one of a few keys: ``put`` a value never
written before, ``get`` (through the log, so a read is as recent as the commit), or
``cas`` from the last value and version it saw of the key. It sends the request to the
node it believes leads; a node that does not lead names its leader, and the client goes
there. With no answer in :data:`RETRY_AFTER` it asks another node *the same request*
(same client, same ``seq``): the key/value machine applies it once, however many copies
the log holds. After :data:`GIVE_UP_AFTER` it records ``info`` (nobody knows whether it
happened) and carries on as a new process, as Jepsen's clients do.

Each call and return is one event of a history in the checker's format
(:mod:`workbench.history.events`). Since every value is written once, a ``cas`` on a
version is a ``cas`` on the value last seen with that version: that is how the history
states it, and how the checker's register model judges it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from stages.v3_replicated_log.kv import Command, Result

KEYS = ("a", "b", "c")
RETRY_AFTER = 0.5  # seconds without an answer before the same request goes to another node
GIVE_UP_AFTER = 3.0  # seconds after the call: the outcome is unknown (info)
THINK = (0.005, 0.05)  # seconds between an answer and the next call


@dataclass
class Request:
    """One operation in progress: the command, and the history's view of it."""

    command: Command
    f: str  # the history's name for it: read, write or cas
    value: Any  # the history's value: what is written, [expected, new] for a cas
    give_up: float  # when its outcome becomes unknown
    attempt: int = 0  # the copy in flight; an answer to an older copy still counts


@dataclass
class Client:
    """One simulated client: its name (its id in the key/value machine's sessions)."""

    name: str
    process: int
    rng: random.Random
    guess: str  # the node it believes leads
    seq: int = 0
    request: Request | None = None
    seen: dict[str, tuple[Any, int]] = field(default_factory=dict)  # key -> (value, version)

    def next_request(self, now: float, value: int) -> Request:
        """A new operation; ``value`` is the run's next never-written value."""
        self.seq += 1
        key = self.rng.choice(KEYS)
        roll = self.rng.random()
        if roll < 0.3 or (roll < 0.6 and key not in self.seen):
            command = Command("get", key, self.name, self.seq)
            request = Request(command, "read", None, now + GIVE_UP_AFTER)
        elif roll < 0.6:
            old, version = self.seen[key]
            command = Command("cas", key, self.name, self.seq, str(value), expected=version)
            request = Request(command, "cas", [old, value], now + GIVE_UP_AFTER)
        else:
            command = Command("put", key, self.name, self.seq, str(value))
            request = Request(command, "write", value, now + GIVE_UP_AFTER)
        self.request = request
        return request

    def answered(self, result: Result) -> dict[str, Any]:
        """The return event of the request ``result`` answers; the client learns the key."""
        request = self.request
        assert request is not None
        self.request = None
        key = request.command.key
        value = None if result.value is None else int(result.value)
        self.seen[key] = (value, result.version)
        if request.f == "read":
            return self.event("ok", request, value)
        return self.event("ok" if result.ok else "fail", request, request.value)

    def unknown(self, next_process: int) -> dict[str, Any]:
        """The request's outcome is unknown: an ``info`` event; a new process goes on."""
        request = self.request
        assert request is not None
        self.request = None
        event = self.event("info", request, request.value)
        self.process = next_process
        return event

    def event(self, kind: str, request: Request, value: Any) -> dict[str, Any]:
        key = request.command.key
        return {"process": self.process, "type": kind, "f": request.f, "key": key, "value": value}
