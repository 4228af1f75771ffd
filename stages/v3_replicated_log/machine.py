"""The state machine as the node serves it over HTTP: bytes in, bytes out, and "was it there?".

:class:`~.kv.KeyValueMachine` keeps text, and reports what a key holds after a command.
The HTTP API stores bytes and answers ``201`` for a key it created, ``200`` for one it
replaced (v1's handlers decide that from ``existed``). So :class:`NodeMachine` keeps each
value in base64 and remembers, for each result, whether the key existed before: a retried
copy of a request gets the first copy's result, ``existed`` included. Pure, like the rest.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from stages.v3_replicated_log.kv import Command, KeyValueMachine, Result


@dataclass(frozen=True)
class Applied(Result):
    """A :class:`~.kv.Result`, and whether the key had a value before the command."""

    existed: bool = False


def encode(value: bytes) -> str:
    """A value as the log carries it (base64: any bytes fit in a JSON string)."""
    return base64.b64encode(value).decode("ascii")


def decode(value: str) -> bytes:
    return base64.b64decode(value)


class NodeMachine(KeyValueMachine):
    """A :class:`~.kv.KeyValueMachine` whose results say whether the key existed before."""

    def _execute(self, command: Command, index: int) -> Result:
        existed = command.key in self.data
        result = super()._execute(command, index)
        return Applied(result.ok, result.value, result.version, result.index, existed)

    def value(self, key: str) -> tuple[bytes, int] | None:
        """The value under ``key`` and its version, as applied so far; None if absent."""
        found = self.data.get(key)
        return None if found is None else (decode(found[0]), found[1])

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(key for key in self.data if key.startswith(prefix))
