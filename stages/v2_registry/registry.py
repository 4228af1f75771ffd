"""The registry's bookkeeping: who is in the cluster, and who has gone silent.

This is the pure core of stage v2. It never reads a clock: every method that
needs the time takes ``now`` (seconds, from any monotonic clock), so tests can
move time forward by hand and the expiry rule can be read without any I/O.

The rule, as etcd leases, Consul TTL checks and ZooKeeper's ephemeral nodes all
have it: an entry lives for ``ttl`` seconds after its last heartbeat. A
heartbeat is simply registering again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

DEFAULT_TTL = 5.0
DEFAULT_MAX_NODES = 1000


@dataclass(frozen=True)
class Entry:
    """One registered node, and when the registry last heard from it."""

    name: str
    host: str
    port: int
    first_seen: float
    last_seen: float

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def age(self, now: float) -> float:
        """Seconds since the last heartbeat."""
        return now - self.last_seen


class RegistryFull(Exception):
    """The registry already holds ``max_nodes`` entries; a new name must wait."""

    def __init__(self, max_nodes: int) -> None:
        super().__init__(f"the registry holds its limit of {max_nodes} nodes")
        self.max_nodes = max_nodes


class NameTaken(Exception):
    """A live entry already uses this name at another address."""

    def __init__(self, entry: Entry) -> None:
        super().__init__(f"the name {entry.name!r} is in use by {entry.host}:{entry.port}")
        self.entry = entry


# --8<-- [start:registry]
class Registry:
    """Registered nodes by name; an entry expires ``ttl`` seconds after its last heartbeat."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL,
        max_nodes: int = DEFAULT_MAX_NODES,
        first_index: int = 0,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"ttl must be greater than 0, not {ttl}")
        if max_nodes <= 0:
            raise ValueError(f"max_nodes must be greater than 0, not {max_nodes}")
        self.ttl = ttl
        self.max_nodes = max_nodes
        self._entries: dict[str, Entry] = {}
        # Grows by one whenever a node joins, is deregistered or expires (at ``expire``; a
        # renewal changes nothing). A watcher asks "has it moved on from N?"; ``on_change``
        # is told each time, to wake the watchers.
        self.index = first_index
        self.on_change = on_change

    def is_live(self, entry: Entry, now: float) -> bool:
        return entry.age(now) < self.ttl

    def register(self, name: str, host: str, port: int, now: float) -> tuple[Entry, bool]:
        """Register ``name`` or renew its entry; return (entry, True if it is new).

        A live name cannot move to another address: that would let any node
        silently take over another's entry. It must be deregistered or expire first.
        A new name is refused while the registry holds ``max_nodes`` entries (an
        expired entry counts until the next ``expire`` removes it), so a flood of
        made-up names cannot grow it, or every node's peer list, without bound.
        """
        old = self._entries.get(name)
        if old is None and len(self._entries) >= self.max_nodes:
            raise RegistryFull(self.max_nodes)
        if old is not None and self.is_live(old, now):
            if old.address != (host, port):
                raise NameTaken(old)
            renewed = replace(old, last_seen=now)
            self._entries[name] = renewed
            return renewed, False
        entry = Entry(name=name, host=host, port=port, first_seen=now, last_seen=now)
        self._entries[name] = entry
        self._changed()
        return entry, True

    def deregister(self, name: str) -> Entry | None:
        """Forget ``name`` at once; return its entry, or None if it was unknown."""
        entry = self._entries.pop(name, None)
        if entry is not None:
            self._changed()
        return entry

    def get(self, name: str, now: float) -> Entry | None:
        """The live entry for ``name``, or None."""
        entry = self._entries.get(name)
        return entry if entry is not None and self.is_live(entry, now) else None

    def entries(self, now: float) -> list[Entry]:
        """Every live entry, sorted by name."""
        return sorted(
            (e for e in self._entries.values() if self.is_live(e, now)), key=lambda e: e.name
        )

    def expire(self, now: float) -> list[Entry]:
        """Remove and return the entries that have been silent for ``ttl`` or more."""
        dead = [e for e in self._entries.values() if not self.is_live(e, now)]
        for entry in dead:
            del self._entries[entry.name]
        if dead:
            self._changed()
        return sorted(dead, key=lambda e: e.name)

    def _changed(self) -> None:
        self.index += 1
        self.on_change()


# --8<-- [end:registry]
