"""The replicated log's entries and messages: frozen dataclasses that validate their JSON.

They extend v2.1's majority-vote messages (:mod:`stages.v2_1_election.messages`), so the
election rules take them for what they are: an :class:`AppendEntries` is the leader's
heartbeat, its :class:`AppendEntriesReply` is the ack CheckQuorum counts, and a
:class:`LogRequestVote` is a RequestVote that names the candidate's last entry::

    {"type": "append_entries", "sender": "n1", "term": 3, "prev_index": 4, "prev_term": 2,
     "entries": [{"index": 5, "term": 3, "data": null}], "leader_commit": 4}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, ClassVar

from stages.v2_1_election.messages import (
    Check,
    Heartbeat,
    HeartbeatAck,
    Message,
    RequestVote,
    Vote,
    list_of,
    object_of,
    whole_number,
)
from stages.v2_registry.models import InvalidMessage

MAX_BATCH = 64  # entries in one AppendEntries, at most
MAX_DATA = 4096  # characters in one entry's command, at most


# --8<-- [start:entry]
@dataclass(frozen=True)
class Entry:
    """One slot of the log: its position, the term of the leader that wrote it, and an
    opaque command for the state machine (``None``: a new leader's no-op)."""

    index: int
    term: int
    data: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "term": self.term, "data": self.data}


# --8<-- [end:entry]


def _data(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_DATA:
        raise InvalidMessage(f"data must be null or a string of at most {MAX_DATA} characters")
    return value


_entry_fields = object_of(
    {"index": whole_number("index"), "term": whole_number("term"), "data": _data}
)


def _entry(value: Any) -> Entry:
    entry = Entry(**_entry_fields(value))
    if entry.index == 0:
        raise InvalidMessage("an entry's index starts at 1")
    return entry


def _entries(value: Any) -> tuple[Entry, ...]:
    entries: tuple[Entry, ...] = list_of(_entry, MAX_BATCH)(value)
    for before, after in pairwise(entries):
        if after.index != before.index + 1 or after.term < before.term:
            raise InvalidMessage("entries must be consecutive, with terms that never decrease")
    return entries


# --8<-- [start:messages]
@dataclass(frozen=True)
class AppendEntries(Heartbeat):
    """Leader to follower: "after your entry ``prev_index`` of ``prev_term``, these come;
    everything up to ``leader_commit`` is committed". Empty ``entries``: a heartbeat."""

    kind: ClassVar[str] = "append_entries"
    checks: ClassVar[Mapping[str, Check]] = {"entries": _entries}
    prev_index: int = 0
    prev_term: int = 0
    entries: tuple[Entry, ...] = ()
    leader_commit: int = 0

    def __post_init__(self) -> None:
        if self.entries and self.entries[0].index != self.prev_index + 1:
            raise InvalidMessage("the first entry must come right after prev_index")

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "entries": [entry.to_json() for entry in self.entries]}


@dataclass(frozen=True)
class AppendEntriesReply(HeartbeatAck):
    """Follower to leader. ``success``: its log now matches the leader's up to
    ``match_index``. Otherwise ``match_index`` is the ``prev_index`` it could not match,
    and the hint says where to back up to (6.5840's fast back-up): ``conflict_term`` is the
    term of its entry at that index (0: it has no entry there) and ``conflict_index`` the
    first index of that term in its log (or its last index + 1)."""

    kind: ClassVar[str] = "append_entries_reply"
    success: bool = False
    match_index: int = 0
    conflict_term: int = 0
    conflict_index: int = 0


@dataclass(frozen=True)
class LogRequestVote(RequestVote):
    """A RequestVote that names the candidate's last entry, for the election restriction."""

    last_index: int = 0
    last_term: int = 0


# --8<-- [end:messages]

MESSAGES: tuple[type[Message], ...] = (AppendEntries, AppendEntriesReply, LogRequestVote, Vote)
