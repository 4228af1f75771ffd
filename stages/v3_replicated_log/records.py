"""The write-ahead log's records as bytes: encoding, framing and checking, no files.

A record is one call to :meth:`~.storage.LogStorage.save`, framed so that a reader can
tell a whole record from a damaged one::

    length (4 bytes, big-endian) | CRC-32 of the payload (4 bytes) | payload

and the payload is compact JSON with the three arguments of ``save`` (``null``: unchanged)::

    {"entries":[{"index":5,"term":3,"data":"..."}],"hard_state":{"term":3,"voted_for":"n1"},"commit":4}

One record per save makes a save atomic on disk: its entries, hard state and commit are
all in the file or none of them is. This module tells a whole record from a damaged one,
and a torn tail (nothing whole after the damage) from a hole in the middle; the
write-ahead log (:mod:`~.wal`) decides what to do about each.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from stages.v2_1_election.core import HardState
from stages.v2_1_election.messages import CHECKS, list_of, object_of, whole_number
from stages.v2_registry.models import InvalidMessage
from stages.v3_replicated_log.messages import MAX_DATA, Entry

HEADER = struct.Struct(">II")  # the payload's length and its CRC-32
MAX_RECORD = 4 * 1024 * 1024  # bytes of payload in one record, at most: a batch of
# MAX_BATCH entries of MAX_DATA characters fits twice over, even at 6 bytes a character (\u001f)


class BadRecord(ValueError):
    """A record that is not whole (short, too long, failing its CRC) or makes no sense."""


# --8<-- [start:batch]
@dataclass(frozen=True)
class Batch:
    """What one save keeps: the entries from ``entries[0].index`` on (the log after them
    is cut), the hard state and the commit index (``None``: unchanged)."""

    entries: tuple[Entry, ...] = ()
    hard_state: HardState | None = None
    commit: int | None = None


# --8<-- [end:batch]


def _data(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > MAX_DATA):
        raise InvalidMessage(f"data must be null or a string of at most {MAX_DATA} characters")
    return value


_entry_fields = object_of(
    {"index": whole_number("index"), "term": whole_number("term"), "data": _data}
)
_state_fields = object_of({"term": whole_number("term"), "voted_for": CHECKS["str | None"]})


def _entry(value: Any) -> Entry:
    return Entry(**_entry_fields(value))


def _hard_state(value: Any) -> HardState | None:
    return None if value is None else HardState(**_state_fields(value))


def _commit(value: Any) -> int | None:
    return None if value is None else whole_number("commit")(value)


_batch_fields = object_of(
    {"entries": list_of(_entry, MAX_RECORD), "hard_state": _hard_state, "commit": _commit}
)


# --8<-- [start:encode]
def encode(batch: Batch) -> bytes:
    """The record of one save; ``ValueError`` (naming the bound) if it is too large or
    holds something that :func:`decode` would refuse when the log is read back."""
    payload = json.dumps(
        {
            "entries": [entry.to_json() for entry in batch.entries],
            "hard_state": batch.hard_state._asdict() if batch.hard_state is not None else None,
            "commit": batch.commit,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    if len(payload) > MAX_RECORD:
        raise ValueError(f"a save holds at most {MAX_RECORD} bytes, not {len(payload)}")
    decode(payload)  # refuse now what the next start-up would refuse as corrupt
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


# --8<-- [end:encode]


# --8<-- [start:read]
def read(buffer: bytes, offset: int) -> bytes:
    """The payload of the record at ``offset`` if it is whole; :class:`BadRecord` says why
    not. A length beyond :data:`MAX_RECORD` is damage, never a reason to read that much."""
    if len(buffer) - offset < HEADER.size:
        raise BadRecord(f"its header is cut short ({len(buffer) - offset} of {HEADER.size} bytes)")
    length, crc = HEADER.unpack_from(buffer, offset)
    if not 0 < length <= MAX_RECORD:  # 0: a run of zeros, where a write never landed
        raise BadRecord(f"its length {length} is not from 1 to {MAX_RECORD}")
    start = offset + HEADER.size
    payload = buffer[start : start + length]
    if len(payload) < length:
        raise BadRecord(f"its payload is cut short ({len(payload)} of {length} bytes)")
    if zlib.crc32(payload) != crc:
        raise BadRecord("its CRC-32 does not match its payload")
    return payload


def _next_whole(buffer: bytes, start: int) -> int | None:
    """The offset of the first whole record at or after ``start`` (``None``: there is none)."""
    for offset in range(start, len(buffer) - HEADER.size + 1):
        try:
            read(buffer, offset)
        except BadRecord:
            continue
        return offset
    return None


@dataclass(frozen=True)
class Damage:
    """The first record that is not whole: where, why, and whether it is the torn tail
    (nothing whole follows it: the end of a write that a crash cut short)."""

    offset: int
    reason: str
    torn: bool


def scan(buffer: bytes) -> tuple[list[tuple[int, bytes]], Damage | None]:
    """The whole records from the start of ``buffer``, each with its offset, up to the
    first one that is not whole, and what is wrong with that one (``None``: nothing)."""
    whole: list[tuple[int, bytes]] = []
    offset = 0
    while offset < len(buffer):
        try:
            payload = read(buffer, offset)
        except BadRecord as exc:
            following = _next_whole(buffer, offset + 1)
            if following is None:
                return whole, Damage(offset, str(exc), torn=True)
            reason = f"{exc}, yet a whole record follows at byte {following}"
            return whole, Damage(offset, reason, torn=False)
        whole.append((offset, payload))
        offset += HEADER.size + len(payload)
    return whole, None


# --8<-- [end:read]


def decode(payload: bytes) -> Batch:
    """The save a whole record holds; :class:`BadRecord` if it makes no sense."""
    try:
        batch = Batch(**_batch_fields(json.loads(payload)))
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, or a bad field
        raise BadRecord(f"its payload makes no sense: {exc}") from None
    entries = batch.entries
    if entries and entries[0].index == 0:
        raise BadRecord("its first entry has index 0; the log starts at 1")
    for before, after in pairwise(entries):
        if after.index != before.index + 1:
            raise BadRecord(f"entry {after.index} does not follow entry {before.index}")
    return batch
