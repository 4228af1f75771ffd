"""Where a node keeps its log: the seam between the driver and a disk (etcd's ``Storage``).

The core never writes a file (persist, then send, then apply): its
:class:`~.raft.LogReady` says what must be kept, and the node's driver hands that to a
:class:`LogStorage` and waits until it says the write is durable before sending anything
that depends on it. Two implementations satisfy the protocol: :class:`MemoryStorage` here
(tests, and the simulator's idea of a disk), and the write-ahead log on disk
(:mod:`~.wal`), which a real node uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from stages.v2_1_election.core import HardState
from stages.v3_replicated_log.messages import Entry


# --8<-- [start:protocol]
@dataclass(frozen=True)
class Persisted:
    """Everything a node finds again after a restart: its term and vote, the highest index
    it knew to be committed (a hint: it may be behind, never ahead), and its entries."""

    hard_state: HardState = field(default_factory=HardState)
    commit: int = 0
    entries: tuple[Entry, ...] = ()


class LogStorage(Protocol):
    """What a driver needs of a disk. ``save`` blocks until the write is durable (one sync
    for the whole batch), so a node calls it off its event loop; it raises ``OSError``
    when the disk refuses, after which nothing the node sends may claim the write."""

    def load(self) -> Persisted:
        """What an earlier run kept (an empty :class:`Persisted` the first time)."""
        ...

    def save(
        self, entries: Sequence[Entry], hard_state: HardState | None, commit: int | None
    ) -> None:
        """Cut the log after ``entries[0].index - 1`` (when ``entries`` is not empty), append
        ``entries``, record ``hard_state`` and ``commit`` if given, then sync once."""
        ...

    def close(self) -> None: ...


# --8<-- [end:protocol]


@dataclass
class MemoryStorage:
    """A :class:`LogStorage` in memory: durable for as long as the object lives. A test
    that "restarts" a node hands the same object to the new core's driver."""

    persisted: Persisted = field(default_factory=Persisted)
    saves: int = 0  # how many syncs a real disk would have done

    def load(self) -> Persisted:
        return self.persisted

    def save(
        self, entries: Sequence[Entry], hard_state: HardState | None, commit: int | None
    ) -> None:
        kept = list(self.persisted.entries)
        if entries:
            if entries[0].index > len(kept) + 1:
                raise ValueError(f"entry {entries[0].index} does not follow {len(kept)}")
            del kept[entries[0].index - 1 :]
            kept.extend(entries)
        self.persisted = Persisted(
            hard_state if hard_state is not None else self.persisted.hard_state,
            commit if commit is not None else self.persisted.commit,
            tuple(kept),
        )
        self.saves += 1

    def close(self) -> None:
        pass
