"""The storage seam's contract, kept alike in memory (:class:`MemoryStorage`) and on disk
(:class:`WriteAheadLog`): what a save keeps, what a restart finds again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stages.v2_1_election.core import HardState
from stages.v3_replicated_log.messages import Entry
from stages.v3_replicated_log.storage import LogStorage, MemoryStorage, Persisted
from stages.v3_replicated_log.wal import WriteAheadLog

E1, E2, E3 = Entry(1, 1, "set a 1"), Entry(2, 1, None), Entry(3, 2, "set b é")


@pytest.fixture(params=["memory", "wal"])
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], LogStorage]]:
    """A storage, and the way to get it back after a restart (the same object in memory;
    the directory opened again on disk)."""
    opened: list[LogStorage] = []
    memory = MemoryStorage()

    def again() -> LogStorage:
        if opened:
            opened[-1].close()
        storage: LogStorage = memory if request.param == "memory" else WriteAheadLog.open(tmp_path)
        opened.append(storage)
        return storage

    yield again
    opened[-1].close()


def test_a_new_storage_holds_nothing(reopen: Callable[[], LogStorage]) -> None:
    assert reopen().load() == Persisted()


def test_entries_survive_a_restart(reopen: Callable[[], LogStorage]) -> None:
    reopen().save([E1, E2], None, None)
    assert reopen().load().entries == (E1, E2)


def test_a_save_cuts_the_log_after_the_entry_before_its_first(
    reopen: Callable[[], LogStorage],
) -> None:
    storage = reopen()
    storage.save([E1, E2, E3], None, None)
    storage.save([Entry(2, 3, "other")], None, None)
    storage.save([Entry(3, 3, "then")], None, None)
    assert reopen().load().entries == (E1, Entry(2, 3, "other"), Entry(3, 3, "then"))


def test_hard_state_and_commit_survive_a_restart_and_none_keeps_them(
    reopen: Callable[[], LogStorage],
) -> None:
    storage = reopen()
    storage.save([E1], HardState(4, "n2"), 1)
    storage.save([E2], None, None)
    assert reopen().load() == Persisted(HardState(4, "n2"), 1, (E1, E2))


def test_a_save_that_leaves_a_gap_is_refused(reopen: Callable[[], LogStorage]) -> None:
    storage = reopen()
    storage.save([E1], None, None)
    with pytest.raises(ValueError, match="entry 3 does not follow"):
        storage.save([E3], None, None)
    assert reopen().load().entries == (E1,)
