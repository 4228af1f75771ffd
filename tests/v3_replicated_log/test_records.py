"""The write-ahead log's records as bytes, without a file: a round trip, the bounds, and
what is not a whole record."""

from __future__ import annotations

import pytest

from stages.v2_1_election.core import HardState
from stages.v3_replicated_log.messages import MAX_BATCH, MAX_DATA, Entry
from stages.v3_replicated_log.records import (
    HEADER,
    MAX_RECORD,
    BadRecord,
    Batch,
    Damage,
    decode,
    encode,
    read,
    scan,
)


def test_a_record_reads_back_as_the_save_it_encodes() -> None:
    batch = Batch((Entry(4, 2, "set x é"), Entry(5, 3)), HardState(3, "n2"), 4)
    record = encode(batch)
    assert len(record) == HEADER.size + len(read(record, 0))
    assert decode(read(record, 0)) == batch


def test_a_full_batch_of_the_largest_entries_fits_in_one_record() -> None:
    worst = "\x1f" * MAX_DATA  # each character written as \u001f: 6 bytes
    encode(Batch(tuple(Entry(index, 1, worst) for index in range(1, MAX_BATCH + 1))))


@pytest.mark.parametrize(
    ("batch", "bound"),
    [
        (Batch((Entry(1, 1, "x" * (MAX_DATA + 1)),)), f"at most {MAX_DATA} characters"),
        (Batch(tuple(Entry(i, 1, "x" * MAX_DATA) for i in range(1, 1100))), f"{MAX_RECORD} bytes"),
        (Batch(hard_state=HardState(2**63, None)), "from 0 to 2\\*\\*63 - 1"),
        (Batch(hard_state=HardState(1, "not a name!")), "'name' must be"),
        (Batch((Entry(2, 1), Entry(4, 1))), "entry 4 does not follow entry 2"),
    ],
    ids=["data", "record", "term", "vote", "gap"],
)
def test_a_save_that_replay_would_refuse_is_refused_naming_the_bound(
    batch: Batch, bound: str
) -> None:
    with pytest.raises(ValueError, match=bound):
        encode(batch)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x00\x00\x00", "header is cut short"),
        (bytes(64), "length 0 is not"),  # a run of zeros, where a write never landed
        (HEADER.pack(MAX_RECORD + 1, 0) + b"{}", f"length {MAX_RECORD + 1} is not"),
        (HEADER.pack(9, 0) + b"{}", "payload is cut short"),
        (HEADER.pack(2, 0) + b"{}", "CRC-32 does not match"),
    ],
    ids=["short header", "zeros", "beyond the bound", "short payload", "bad CRC"],
)
def test_what_is_not_a_whole_record_says_why(data: bytes, why: str) -> None:
    with pytest.raises(BadRecord, match=why) as caught:
        read(data, 0)
    assert scan(data) == ([], Damage(0, str(caught.value), torn=True))


def test_damage_with_a_whole_record_after_it_is_not_a_torn_tail() -> None:
    first, second = encode(Batch((Entry(1, 1),))), encode(Batch((Entry(2, 1),)))
    whole, damage = scan(first + b"garbage" + bytes(9) + second + b"torn")
    assert whole == [(0, read(first, 0))]
    assert damage is not None and (damage.offset, damage.torn) == (len(first), False)
    assert f"a whole record follows at byte {len(first) + 16}" in damage.reason
