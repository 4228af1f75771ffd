"""The write-ahead log on disk: a :class:`~.storage.LogStorage` that survives a crash.

A node's data directory holds one file, ``log``, that only ever grows: each
:meth:`~WriteAheadLog.save` appends one record (:mod:`~.records`) with its entries, hard
state and commit index, in one write, then syncs the file once (group commit: a driver
that gathers several readies into one save pays for one sync). Nothing is rewritten in
place: a save that cuts the log's suffix says so by the index of its first entry.

At start-up the records are replayed in order, as the saves they were. The end of the
file is where a crash can leave a record half-written, and only there: every record
before the last one was synced before its save returned. So:

* a damaged record with nothing whole after it is the **torn tail** of a save that never
  returned: it is cut off the file, with one WARNING;
* a damaged record with a whole one after it, or a whole record that makes no sense, is
  **corruption**: :class:`WALCorrupt`, and the node does not start. A silent reset would
  forget entries and votes this node has acknowledged.

The hard state and the commit index travel in the records with the entries, as etcd's WAL
keeps its ``HardState``: one file, one write and one sync per save, and no second file to
keep in step with the first.

A write or a sync that fails (a full disk, an I/O error) fails the log for good: see
:meth:`~WriteAheadLog.save`.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from stages.v2_1_election.core import HardState
from stages.v3_replicated_log import records
from stages.v3_replicated_log.messages import Entry
from stages.v3_replicated_log.storage import Persisted

log = logging.getLogger(__name__)

FILE_NAME = "log"


class WALError(OSError):
    """The disk refused: the data directory cannot be used, or a save did not reach it."""


class WALCorrupt(Exception):
    """The log on disk cannot be trusted, so the node must not start with it."""


# --8<-- [start:open]
class WriteAheadLog:
    """The log of one node in ``DIR/log``; :meth:`open` it, then ``load`` and ``save``."""

    def __init__(self, path: Path, fd: int) -> None:
        """Use :meth:`open`, which replays the file into this empty log."""
        self.path = path
        self._fd = fd
        self._entries: list[Entry] = []
        self._hard_state = HardState()
        self._commit = 0
        self._failed: OSError | None = None  # the error that failed this log for good

    @classmethod
    def open(cls, directory: Path | str) -> WriteAheadLog:
        """Open (or create) the log in ``directory``, replaying what it holds."""
        directory = Path(directory)
        path = directory / FILE_NAME
        if directory.exists() and not directory.is_dir():
            raise WALError(errno.ENOTDIR, f"the data directory {directory} is not a directory")
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise WALError(
                exc.errno, f"cannot keep a log in {directory}: {exc.strerror} ({exc.filename})"
            ) from None
        wal = cls(path, fd)
        try:
            _lock(fd, path)
            wal._replay(path.read_bytes())
            for parent in (directory, directory.parent):  # the names, if new, survive too
                _sync_directory(parent)
        except BaseException:
            os.close(fd)
            raise
        state = wal._hard_state
        log.info(
            "%s: %d entries, term %d, voted for %s, commit %d",
            path,
            len(wal._entries),
            state.term,
            state.voted_for or "nobody",
            wal._commit,
        )
        return wal

    # --8<-- [end:open]

    # --8<-- [start:replay]
    def _replay(self, buffer: bytes) -> None:
        """Apply every record in order; cut a torn tail, refuse a corrupt middle."""
        whole, damage = records.scan(buffer)
        for offset, payload in whole:
            try:
                self._apply(records.decode(payload))
            except ValueError as exc:  # a BadRecord, or entries that do not follow
                raise self._corrupt(offset, str(exc)) from None
        if damage is None:
            return
        if not damage.torn:
            raise self._corrupt(damage.offset, damage.reason)
        self._cut_torn_tail(damage, len(buffer) - damage.offset)

    def _cut_torn_tail(self, damage: records.Damage, size: int) -> None:
        log.warning(
            "%s: the last record, at byte %d, is torn: %s. A crash cut its write short, "
            "before its save returned: dropping its %d bytes",
            self.path,
            damage.offset,
            damage.reason,
            size,
        )
        try:
            os.ftruncate(self._fd, damage.offset)
            os.fsync(self._fd)
        except OSError as exc:
            message = f"cannot cut the torn end of {self.path}: {exc.strerror}"
            raise WALError(exc.errno, message) from None

    def _corrupt(self, offset: int, reason: str) -> WALCorrupt:
        return WALCorrupt(
            f"{self.path} is corrupt at byte {offset}: the record there is bad ({reason}). "
            "Refusing to start: a node that forgets what it acknowledged can make its cluster "
            "lose a committed write or elect two leaders in one term. Keep the file for "
            "inspection; restore the directory from a copy, or replace this node by a new "
            "member (an empty directory under the same name is not safe)."
        )

    # --8<-- [end:replay]

    def load(self) -> Persisted:
        return Persisted(self._hard_state, self._commit, tuple(self._entries))

    # --8<-- [start:save]
    def save(
        self, entries: Sequence[Entry], hard_state: HardState | None, commit: int | None
    ) -> None:
        """Append one record and sync once; ``ValueError`` (nothing written) for a batch
        out of bounds or out of order, :class:`WALError` if the disk fails. One save at a
        time: the order of the saves is the order of the log."""
        if self._failed is not None:
            raise WALError(
                self._failed.errno,
                f"{self.path} failed earlier ({self._failed.strerror}) and accepts nothing "
                "more; restart the node once the disk is fixed",
            )
        if not entries and hard_state is None and commit is None:
            return  # nothing to keep
        batch = records.Batch(tuple(entries), hard_state, commit)
        self._check_follows(batch)
        record = records.encode(batch)
        try:
            _write_all(self._fd, record)
            os.fsync(self._fd)
        except OSError as exc:
            # After a failed fsync the kernel may have dropped the dirty pages and marked
            # them clean, so a second fsync "succeeds" with the data lost: PostgreSQL's
            # "fsyncgate" (2018), where retrying the fsync was exactly the mistake. So a
            # failed write or sync is never retried: the log refuses every later save.
            self._failed = exc
            raise WALError(
                exc.errno,
                f"cannot save to {self.path}: {exc.strerror}; nothing since the last "
                "save is durable, and this log accepts nothing more",
            ) from exc
        self._apply(batch)

    # --8<-- [end:save]

    def _check_follows(self, batch: records.Batch) -> None:
        if batch.entries and batch.entries[0].index > len(self._entries) + 1:
            raise ValueError(
                f"entry {batch.entries[0].index} does not follow the log's last entry "
                f"{len(self._entries)}"
            )

    def _apply(self, batch: records.Batch) -> None:
        """What a save does to the log in memory; replay does it again, record by record."""
        self._check_follows(batch)
        if batch.entries:
            del self._entries[batch.entries[0].index - 1 :]
            self._entries.extend(batch.entries)
        if batch.hard_state is not None:
            self._hard_state = batch.hard_state
        if batch.commit is not None:
            self._commit = batch.commit

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _lock(fd: int, path: Path) -> None:
    """One node per data directory (etcd locks its WAL files too): two processes appending
    to one log would interleave their records. The lock goes when the file is closed."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        message = f"{path} is in use by another process: one node per data directory"
        raise WALError(errno.EWOULDBLOCK, message) from None


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` may write less than it was given (a disk filling up): write the rest."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
