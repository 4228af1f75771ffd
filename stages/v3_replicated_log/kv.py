"""The key/value state machine that the replicated log drives: pure, applied in log order.

Each committed entry carries one :class:`Command` as JSON. Applying it gives a
:class:`Result`, the same on every node, since every node applies the same entries in
the same order. A key's *version* is the log index of its last write, so
compare-and-set needs no clock: "set k to v if its version is still 7". Version 0 means
"absent". A client numbers its requests; one retried after a timeout (same client,
same ``seq``) may be committed twice, but is applied once: the second copy gets the
first one's result (6.5840's duplicate table, one entry per client).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

from stages.v3_replicated_log.messages import Entry

Op = Literal["get", "put", "delete", "cas"]
OPS: tuple[Op, ...] = ("get", "put", "delete", "cas")


class InvalidCommand(ValueError):
    """An entry's data that is not a command this state machine knows."""


# --8<-- [start:command]
@dataclass(frozen=True)
class Command:
    """One client request: ``put`` (key, value), ``delete`` (key), ``get`` (key),
    ``cas`` (key, value if the key's version is ``expected``); ``client`` and ``seq``
    identify it, so a retried copy is applied once."""

    op: Op
    key: str
    client: str
    seq: int
    value: str | None = None
    expected: int = 0  # cas: the version the key must have (0: absent)

    def to_data(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_data(cls, data: str) -> Command:
        try:
            fields: Any = json.loads(data)
            if not isinstance(fields, dict) or fields.get("op") not in OPS:
                raise InvalidCommand(f"not a command: {data[:60]!r}")
            command = cls(**fields)
        except (ValueError, TypeError) as exc:
            raise InvalidCommand(f"not a command: {exc}") from None
        if not all(isinstance(n, int) for n in (command.seq, command.expected)):
            raise InvalidCommand("seq and expected must be whole numbers")
        if not isinstance(command.key, str) or not isinstance(command.client, str):
            raise InvalidCommand("a command needs a string key and client")
        if command.op in ("put", "cas") and not isinstance(command.value, str):
            raise InvalidCommand(f"a {command.op} needs a string value")
        return command


@dataclass(frozen=True)
class Result:
    """What a command did: ``ok`` (found, written or compared equal), the key's value and
    version afterwards (``None`` and 0: absent), and the log index that applied it."""

    ok: bool
    value: str | None
    version: int
    index: int


# --8<-- [end:command]


# --8<-- [start:machine]
class KeyValueMachine:
    """Keys to (value, version); and each client's last request with its result."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[str, int]] = {}
        self.sessions: dict[str, tuple[int, Result]] = {}  # client -> (last seq, its result)
        self.applied = 0  # the index of the last entry applied

    def apply(self, entry: Entry) -> Result | None:
        """Apply the next committed entry; ``None`` for a no-op. Entries come in order."""
        if entry.index != self.applied + 1:
            raise ValueError(f"entry {entry.index} applied after {self.applied}")
        self.applied = entry.index
        if entry.data is None:
            return None
        command = Command.from_data(entry.data)
        seen = self.sessions.get(command.client)
        if seen is not None and command.seq <= seen[0]:
            return seen[1]  # a retried copy: applied once, the first result again
        result = self._execute(command, entry.index)
        self.sessions[command.client] = (command.seq, result)
        return result

    def _execute(self, command: Command, index: int) -> Result:
        value, version = self.data.get(command.key, (None, 0))
        match command.op:
            case "get":
                return Result(version > 0, value, version, index)
            case "delete":
                self.data.pop(command.key, None)
                return Result(version > 0, None, 0, index)
            case "cas" if version != command.expected:
                return Result(False, value, version, index)
        assert command.value is not None  # put and cas: from_data checked it
        self.data[command.key] = (command.value, index)
        return Result(True, command.value, index, index)


# --8<-- [end:machine]
