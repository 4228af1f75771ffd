"""The seam between v1's HTTP handlers and the data: :class:`KVBackend`.

The handlers in :mod:`stages.v1_kv.server` call only these four methods. v1's own
backend, :class:`LocalKV`, applies every write to one in-memory
:class:`~stages.v1_kv.store.KVStore` at once. A later stage passes its own backend to
:func:`~stages.v1_kv.server.create_app` (one that copies a write to other nodes, or
puts it in a log, before it is applied) and reuses the handlers as they are.
"""

from __future__ import annotations

from typing import Protocol

from stages.v1_kv.commands import Command, WriteResult
from stages.v1_kv.store import KVStore


# --8<-- [start:backend]
class KVBackend(Protocol):
    """What the handlers need from wherever the data lives.

    Every method is a coroutine, so that an implementation may wait for other nodes.
    Keys reach it already validated by the handlers.
    """

    async def write(self, command: Command) -> WriteResult:
        """Carry out a :class:`~stages.v1_kv.commands.Put` or a ``Delete``."""
        ...

    async def read(self, key: str) -> bytes | None:
        """The value stored under ``key``, or None if there is none."""
        ...

    async def keys(self, prefix: str = "") -> list[str]:
        """All keys that start with ``prefix``, sorted."""
        ...

    async def count(self) -> int:
        """How many keys there are (``GET /health`` reports it)."""
        ...


class LocalKV:
    """v1's backend: one process, one :class:`KVStore`, every write applied at once."""

    def __init__(self, store: KVStore | None = None) -> None:
        self.store = store if store is not None else KVStore()

    async def write(self, command: Command) -> WriteResult:
        return self.store.apply(command)

    async def read(self, key: str) -> bytes | None:
        return self.store.get(key)

    async def keys(self, prefix: str = "") -> list[str]:
        return self.store.keys(prefix)

    async def count(self) -> int:
        return len(self.store)


# --8<-- [end:backend]
