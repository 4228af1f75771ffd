"""The write-ahead log on disk: what a crash leaves (a torn tail is cut with one warning,
a corrupt middle refuses to start); one sync per save; a failed disk fails the log for
good; bounds; and, at random, the same log as in memory. Its contract with the storage seam,
shared with :class:`MemoryStorage`, is in ``test_storage.py``."""

from __future__ import annotations

import errno
import json
import logging
import os
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stages.v2_1_election.core import HardState
from stages.v3_replicated_log import records
from stages.v3_replicated_log.messages import MAX_DATA, Entry
from stages.v3_replicated_log.storage import MemoryStorage, Persisted
from stages.v3_replicated_log.wal import FILE_NAME, WALCorrupt, WALError, WriteAheadLog

Save = tuple[list[Entry], HardState | None, int | None]  # the arguments of one save
E1, E2, E3 = Entry(1, 1, "set a 1"), Entry(2, 1, None), Entry(3, 2, "set b é")


def _saved(directory: Path, *saves: Save) -> Path:
    """A data directory whose log holds these saves; its log file's path."""
    wal = WriteAheadLog.open(directory)
    for save in saves:
        wal.save(*save)
    wal.close()
    return directory / FILE_NAME


def _reopened(directory: Path | str) -> WriteAheadLog:
    """The log as a restarted node finds it (closed again: ``load`` still answers)."""
    wal = WriteAheadLog.open(directory)
    wal.close()
    return wal


THREE_SAVES: list[Save] = [
    ([E1], HardState(1, "n1"), None),
    ([E2], None, 1),
    ([E3], HardState(2, None), 2),
]
AFTER_TWO = Persisted(HardState(1, "n1"), 1, (E1, E2))


def _record_offsets(path: Path) -> list[int]:
    """Where each record of a whole log starts."""
    buffer, offsets, offset = path.read_bytes(), [], 0
    while offset < len(buffer):
        offsets.append(offset)
        offset += records.HEADER.size + len(records.read(buffer, offset))
    return offsets


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# -- what a crash leaves behind -------------------------------------------------------


def test_a_torn_last_record_is_cut_at_every_byte_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    whole = _saved(tmp_path / "whole", *THREE_SAVES).read_bytes()
    last = _record_offsets(tmp_path / "whole" / FILE_NAME)[-1]
    for end in range(last + 1, len(whole)):
        directory = tmp_path / f"torn-{end}"
        directory.mkdir()
        (directory / FILE_NAME).write_bytes(whole[:end])
        caplog.clear()
        assert _reopened(directory).load() == AFTER_TWO, f"cut at byte {end}"
        warnings = _warnings(caplog)
        assert len(warnings) == 1, f"cut at byte {end}: {warnings}"
        message = warnings[0]
        assert f"at byte {last}" in message and f"dropping its {end - last} bytes" in message
        assert str(directory / FILE_NAME) in message
        assert (directory / FILE_NAME).stat().st_size == last, "the torn bytes are gone"


def test_a_log_cut_after_a_torn_tail_takes_new_saves(tmp_path: Path) -> None:
    path = _saved(tmp_path, *THREE_SAVES)
    path.write_bytes(path.read_bytes()[:-3])
    _saved(tmp_path, ([E3], None, 3))
    assert _reopened(tmp_path).load() == Persisted(HardState(1, "n1"), 3, (E1, E2, E3))


def test_a_tail_of_zeros_where_a_write_never_landed_is_torn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _saved(tmp_path, *THREE_SAVES[:2])
    with path.open("ab") as file:
        file.write(bytes(4096))
    assert _reopened(tmp_path).load() == AFTER_TWO
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "dropping its 4096 bytes" in warnings[0]


def test_a_flipped_byte_in_a_middle_record_refuses_to_start_naming_its_offset(
    tmp_path: Path,
) -> None:
    whole = _saved(tmp_path / "whole", *THREE_SAVES).read_bytes()
    start, end = _record_offsets(tmp_path / "whole" / FILE_NAME)[1:3]
    for at in range(start, end):
        damaged = bytearray(whole)
        damaged[at] ^= 0x40
        (tmp_path / FILE_NAME).write_bytes(damaged)
        with pytest.raises(WALCorrupt, match=f"corrupt at byte {start}: ") as caught:
            WriteAheadLog.open(tmp_path)
        assert "Refusing to start" in str(caught.value), f"byte {at} flipped"
        assert (tmp_path / FILE_NAME).read_bytes() == damaged, "nothing is reset"


def _framed(payload: bytes, length: int | None = None) -> bytes:
    """A record with a good CRC around any payload (a length that lies, if given)."""
    return records.HEADER.pack(length or len(payload), zlib.crc32(payload)) + payload


def _unchecked(**fields: Any) -> bytes:
    """A record with a good CRC that ``records.encode`` would have refused to write."""
    return _framed(
        json.dumps({"entries": [], "hard_state": None, "commit": None, **fields}).encode()
    )


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (_framed(b"{not json"), "makes no sense"),
        (_unchecked(hard_state={"term": -1, "voted_for": None}), "'term' must be a whole number"),
        (records.encode(records.Batch((Entry(7, 1),))), "entry 7 does not follow"),
        (_unchecked(entries=[Entry(4, 2).to_json(), Entry(6, 2).to_json()]), "entry 6 does not"),
        (_unchecked(entries=[Entry(0, 2).to_json()]), "index 0"),
    ],
    ids=["not JSON", "a negative term", "a gap in the log", "a gap in the record", "index 0"],
)
def test_a_whole_record_that_makes_no_sense_refuses_to_start_even_last(
    tmp_path: Path, record: bytes, reason: str
) -> None:
    path = _saved(tmp_path, *THREE_SAVES)
    size = path.stat().st_size
    path.write_bytes(path.read_bytes() + record)
    with pytest.raises(WALCorrupt, match=f"corrupt at byte {size}: .*{reason}"):
        WriteAheadLog.open(tmp_path)


def test_a_length_beyond_the_bound_is_damage_never_an_allocation(tmp_path: Path) -> None:
    path = _saved(tmp_path, *THREE_SAVES[:1])
    size = path.stat().st_size
    huge = _framed(b"{}", length=records.MAX_RECORD + 1)
    path.write_bytes(path.read_bytes() + huge + records.encode(records.Batch((E2,))))
    with pytest.raises(WALCorrupt, match=f"byte {size}: .*length {records.MAX_RECORD + 1} is not"):
        WriteAheadLog.open(tmp_path)


# -- a disk that refuses ----------------------------------------------------------------


def _failing(code: int) -> Callable[..., Any]:
    """An ``os`` call that fails as a full or broken disk makes it fail."""
    return mock.Mock(side_effect=OSError(code, os.strerror(code)))


def test_each_save_syncs_the_log_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wal = WriteAheadLog.open(tmp_path)
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    wal.save([E1, E2, E3], HardState(2, "n1"), 2)
    wal.save([E3], None, 3)
    wal.close()
    assert len(synced) == 2


@pytest.mark.parametrize("call", ["write", "fsync"])
def test_a_failed_write_or_sync_fails_this_and_every_later_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    wal = WriteAheadLog.open(tmp_path)
    wal.save([E1], None, None)
    with monkeypatch.context() as patched:
        patched.setattr(os, call, _failing(errno.ENOSPC))
        with pytest.raises(WALError, match="No space left on device") as caught:
            wal.save([E2], None, None)
    assert caught.value.errno == errno.ENOSPC
    size = (tmp_path / FILE_NAME).stat().st_size
    with pytest.raises(WALError, match="failed earlier"):
        wal.save([E2], None, None)  # the disk works again; the log still refuses
    assert (tmp_path / FILE_NAME).stat().st_size == size, "nothing more was written"
    assert wal.load().entries == (E1,)
    wal.close()


def test_a_data_directory_that_cannot_hold_a_log_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a directory")
    with pytest.raises(WALError, match=r"data directory .*data is not a directory"):
        WriteAheadLog.open(tmp_path / "data")
    (tmp_path / "other" / FILE_NAME).mkdir(parents=True)
    with pytest.raises(WALError, match=r"cannot keep a log in .*other: Is a directory"):
        WriteAheadLog.open(tmp_path / "other")


def test_a_second_node_on_the_same_data_directory_is_refused(tmp_path: Path) -> None:
    first = WriteAheadLog.open(tmp_path)
    with pytest.raises(WALError, match="in use by another process"):
        WriteAheadLog.open(tmp_path)
    first.close()
    _reopened(tmp_path)  # free again once the first one is closed


def test_a_torn_tail_that_cannot_be_cut_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _saved(tmp_path, *THREE_SAVES)
    path.write_bytes(path.read_bytes()[:-1])
    monkeypatch.setattr(os, "ftruncate", _failing(errno.EIO))
    with pytest.raises(WALError, match=r"cannot cut the torn end of .*: Input/output error"):
        WriteAheadLog.open(tmp_path)


def test_a_save_beyond_the_bounds_writes_nothing(tmp_path: Path) -> None:
    wal = WriteAheadLog.open(tmp_path)
    with pytest.raises(ValueError, match=f"at most {MAX_DATA} characters"):
        wal.save([Entry(1, 1, "x" * (MAX_DATA + 1))], None, None)
    wal.close()
    assert (tmp_path / FILE_NAME).stat().st_size == 0


# -- at random: the same log on disk as in memory ------------------------------------


@st.composite
def _saves(draw: st.DrawFn) -> list[Save]:
    """Saves as a core hands them out: each cuts the log somewhere and appends."""
    saves: list[Save] = []
    length = 0
    for _ in range(draw(st.integers(0, 12))):
        first = draw(st.integers(1, length + 1))
        terms = draw(st.lists(st.integers(0, 5), max_size=4))
        data = st.none() | st.text(max_size=8)
        entries = [Entry(first + n, term, draw(data)) for n, term in enumerate(terms)]
        length = first - 1 + len(entries) if entries else length
        state = draw(
            st.none() | st.builds(HardState, st.integers(0, 9), st.sampled_from([None, "n1", "n2"]))
        )
        saves.append((entries, state, draw(st.none() | st.integers(0, 20))))
    return saves


@given(_saves())
def test_any_saves_read_back_from_disk_as_memory_holds_them(saves: list[Save]) -> None:
    memory = MemoryStorage()
    # What is written reads back with or without a sync: skip the disk's slowest call.
    with tempfile.TemporaryDirectory() as directory, mock.patch.object(os, "fsync"):
        wal = WriteAheadLog.open(directory)
        for save in saves:
            memory.save(*save)
            wal.save(*save)
        assert wal.load() == memory.load()
        wal.close()
        assert _reopened(directory).load() == memory.load()


@given(_saves(), st.floats(0, 1))
def test_a_log_cut_at_any_byte_reads_back_as_the_saves_before_the_cut(
    saves: list[Save], where: float
) -> None:
    memory, states, ends = MemoryStorage(), [Persisted()], [0]
    with tempfile.TemporaryDirectory() as directory, mock.patch.object(os, "fsync"):
        wal = WriteAheadLog.open(directory)
        for save in saves:
            memory.save(*save)
            wal.save(*save)
            states.append(memory.load())
            ends.append((Path(directory) / FILE_NAME).stat().st_size)
        wal.close()
        path = Path(directory) / FILE_NAME
        cut = round(where * ends[-1])
        path.write_bytes(path.read_bytes()[:cut])
        kept = max(i for i, end in enumerate(ends) if end <= cut)  # the saves wholly before it
        assert _reopened(directory).load() == states[kept], f"cut at byte {cut} of {ends}"
