"""One node's copy of the log, in memory: entries numbered from 1, with their terms.

Pure and small: the core (:mod:`~.raft`) decides what to append or cut; this keeps the
entries and answers questions about them. Index 0 is the empty log's "entry" of term 0,
so every AppendEntries has a ``prev_index`` to match.
"""

from __future__ import annotations

from collections.abc import Iterable

from stages.v3_replicated_log.messages import Entry


# --8<-- [start:log]
class Log:
    """Entries ``1 .. last_index``; ``entries[i - 1].index == i`` always holds."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self.entries: list[Entry] = []
        self.extend(entries)

    @property
    def last_index(self) -> int:
        return len(self.entries)

    @property
    def last_term(self) -> int:
        return self.term_at(self.last_index)

    def term_at(self, index: int) -> int:
        """The term of the entry at ``index``; 0 for index 0 (or an index past the end)."""
        return self.entries[index - 1].term if 0 < index <= self.last_index else 0

    def first_index_of_term(self, index: int) -> int:
        """The first index of the run of entries sharing the term of the one at ``index``."""
        term = self.term_at(index)
        while index > 1 and self.term_at(index - 1) == term:
            index -= 1
        return index

    def last_index_of_term(self, term: int) -> int | None:
        """The last index holding an entry of ``term``, if any does."""
        for entry in reversed(self.entries):
            if entry.term == term:
                return entry.index
            if entry.term < term:
                return None
        return None

    def slice(self, first: int, last: int) -> list[Entry]:
        """The entries ``first .. last``, both included."""
        return self.entries[first - 1 : last]

    def extend(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            if entry.index != self.last_index + 1:
                raise ValueError(f"entry {entry.index} does not follow {self.last_index}")
            self.entries.append(entry)

    def truncate_after(self, index: int) -> None:
        """Cut every entry after ``index`` (a conflicting suffix)."""
        del self.entries[index:]

    def up_to_date(self, last_index: int, last_term: int) -> bool:
        """Raft §5.4.1: is a log ending at (``last_index``, ``last_term``) at least as up to
        date as this one? The later last term wins; with equal terms, the longer log."""
        return (last_term, last_index) >= (self.last_term, self.last_index)


# --8<-- [end:log]
