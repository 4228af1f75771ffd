"""The v3.0 node's driver: v2.1's :class:`~stages.v2_1_election.node.ElectionDriver`, with a log.

It owns a :class:`~.readindex.ReadIndexCore` (Raft with ReadIndex reads), a
:class:`~.machine.NodeMachine` (the key/value state machine) and a
:class:`~.storage.LogStorage` (the disk). v2.1's driver carries out each ``ready`` at
once; a log's ``ready`` must reach the disk first, which takes a sync, so here every
``ready`` joins a queue, and one task, the *writer*, carries them out in order:

1. **persist** the entries and hard state (``save``, in a thread: the loop keeps serving);
   the readies that queued up meanwhile are saved together, with one sync;
2. **send** their messages, which may now claim what is on the disk;
3. **apply** their committed entries to the state machine, and answer the clients.

A client's write is a *proposal*: a future under its log index, with the term it was
proposed in. It is resolved with the state machine's result when that index is applied
with that term; "outcome unknown" (:class:`OutcomeUnknown`) when an entry of another term
takes the index, or when this node stops leading before the entry commits: it may still
commit under the next leader, or not. If the disk refuses a write, the node stops: it
sends, applies and acknowledges nothing more (:class:`DiskFailed`), and says so once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from stages.v2_1_election.core import Elector, HardState, Ready, Role, Send, Storage
from stages.v2_1_election.node import ElectionDriver
from stages.v2_registry.node import NodeConfig
from stages.v3_replicated_log.kv import Command, InvalidCommand, Result
from stages.v3_replicated_log.machine import NodeMachine
from stages.v3_replicated_log.messages import Entry
from stages.v3_replicated_log.readindex import ReadIndexCore, ReadReady
from stages.v3_replicated_log.storage import LogStorage

log = logging.getLogger(__name__)


class OutcomeUnknown(Exception):
    """The write may have been committed, or may not: only a later read can tell."""


class DiskFailed(Exception):
    """This node's disk refused a write: it acknowledges nothing any more. ``pending``: the
    write was proposed before, and may be committed by the others."""

    def __init__(self, message: str, pending: bool = False) -> None:
        super().__init__(message)
        self.pending = pending


class LeadershipLost(Exception):
    """A read this node could not confirm: it stopped leading first (a read is safe to retry)."""


@dataclass(frozen=True)
class Proposal:
    """A client's command in the log at ``index``, proposed in ``term``, and its answer."""

    term: int
    answer: asyncio.Future[Result]


class RaftDriver(ElectionDriver):
    """v2.1's driver for a :class:`~.readindex.ReadIndexCore`; see the module's doc."""

    def __init__(
        self,
        app: web.Application,
        config: NodeConfig,
        elector: Elector,
        storage: Storage | None,
        max_message_bytes: int,
        *,
        log_storage: LogStorage,
        machine: NodeMachine,
    ) -> None:
        super().__init__(app, config, elector, storage, max_message_bytes)
        assert isinstance(elector, ReadIndexCore), "a v3.0 node drives a ReadIndexCore"
        self.core, self.log_storage, self.machine = elector, log_storage, machine
        self.readies: asyncio.Queue[ReadReady] = asyncio.Queue()
        self.proposals: dict[int, Proposal] = {}  # log index -> the write waiting for it
        self.reads: dict[int, asyncio.Future[int]] = {}  # read number -> its read index
        self.applying: list[tuple[int, asyncio.Future[None]]] = []  # wait for applied >= index
        self.next_read = 0
        self.leading: int | None = None  # the term this node leads in, as last seen
        self.disk_error: str | None = None
        self.saving: asyncio.Future[None] | None = None  # the save in progress, if any
        replayed = elector.ready([]).committed  # the commit index the storage kept
        for entry in replayed:
            try:
                machine.apply(entry)
            except InvalidCommand as exc:  # as apply() does: skipped, as every node skips it
                log.error("%s skipped entry %d: %s", elector.name, entry.index, exc)
        if replayed:
            log.info("%s replayed %d committed entries from its log", elector.name, len(replayed))

    # --8<-- [start:settle]
    def settle(self, sends: list[Send]) -> None:
        """After every verb: queue the core's ``ready`` for the writer (which persists, sends
        and applies, in that order), and notice a lost leadership at once."""
        ready = self.core.ready(sends)
        self.readies.put_nowait(ready)
        self.notice_leadership()
        if self.elector.deadline < self.next_tick:
            self.wake.set()

    async def write_ahead(self) -> None:
        """The writer: one batch of readies at a time, in order (persist, send, apply)."""
        while True:
            batch = [await self.readies.get()]
            while not self.readies.empty():
                batch.append(self.readies.get_nowait())
            if self.disk_error is not None:
                continue  # a node that cannot keep its word says nothing more
            entries, hard_state = merged(batch)
            # The newest commit index, a hint for the next start: a leader learns it from
            # replies, which persist nothing, so the next save carries it along. Never ahead
            # of the log: whatever the core holds is in this batch or saved before it.
            commit = self.core.commit_index
            if entries or hard_state is not None:
                save = self.log_storage.save
                self.saving = asyncio.ensure_future(
                    asyncio.to_thread(save, entries, hard_state, commit)
                )
                try:
                    await asyncio.shield(self.saving)  # a shutdown waits for it: close()
                except OSError as exc:
                    self.disk_failed(exc)
                    continue
            for ready in batch:
                self.send(ready.messages)
                self.apply(ready)

    # --8<-- [end:settle]

    # --8<-- [start:apply]
    def apply(self, ready: Ready) -> None:
        """Apply the committed entries, answer the writes they carry, release the reads."""
        assert isinstance(ready, ReadReady), "a ReadIndexCore hands out ReadReady"
        for entry in ready.committed:
            try:
                result = self.machine.apply(entry)
            except InvalidCommand as exc:  # the same on every node: skipped by every node
                log.error("%s skipped entry %d: %s", self.core.name, entry.index, exc)
                result = None
            if entry.data is None:  # once a term: the story of the log, without the chatter
                log.info(
                    "%s applied term %d's no-op at index %d: what came before is committed",
                    self.core.name, entry.term, entry.index,
                )  # fmt: skip
            proposal = self.proposals.pop(entry.index, None)
            if proposal is None or proposal.answer.done():
                continue
            if proposal.term == entry.term and result is not None:
                proposal.answer.set_result(result)
            else:
                proposal.answer.set_exception(
                    OutcomeUnknown(f"another leader's entry took index {entry.index}")
                )
        if ready.committed:
            log.debug("%s applied up to %d", self.core.name, self.machine.applied)
        for state in ready.reads:
            confirmed = self.reads.pop(state.read, None)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(state.index)
        still = []
        for index, applied in self.applying:
            if index <= self.machine.applied:
                if not applied.done():
                    applied.set_result(None)
            else:
                still.append((index, applied))
        self.applying = still

    # --8<-- [end:apply]

    # --8<-- [start:notice_leadership]
    def notice_leadership(self) -> None:
        """Log a new leadership; when one ends, every write not yet committed gets "outcome
        unknown" and every unconfirmed read a refusal. Committed ones are answered as
        usual: the writer applies them."""
        core = self.core
        if core.role is Role.LEADER:
            self.leading = core.term
            return
        if self.leading is None:
            return
        lost = sorted(index for index in self.proposals if index > core.commit_index)
        log.info(
            "%s lost leadership of term %d with %d writes not yet committed",
            core.name, self.leading, len(lost),
        )  # fmt: skip
        self.leading = None
        for index in lost:
            answer = self.proposals.pop(index).answer
            if not answer.done():
                answer.set_exception(OutcomeUnknown(f"{core.name} stopped leading"))
        for read in self.reads.values():
            if not read.done():
                read.set_exception(LeadershipLost(f"{core.name} stopped leading"))
        self.reads = {}

    # --8<-- [end:notice_leadership]

    def disk_failed(self, exc: OSError) -> None:
        """The disk refused: answer every waiting client, and refuse from now on."""
        self.disk_error = f"{self.core.name}'s disk failed: {exc.strerror or exc}"
        log.error("%s; it acknowledges no more writes", self.disk_error)
        for proposal in self.proposals.values():
            if not proposal.answer.done():
                proposal.answer.set_exception(DiskFailed(self.disk_error, pending=True))
        waiting: list[asyncio.Future[Any]] = [*self.reads.values()]
        waiting += [wait for _, wait in self.applying]
        for future in waiting:
            if not future.done():
                future.set_exception(DiskFailed(self.disk_error))
        self.proposals, self.reads, self.applying = {}, {}, []

    # -- what the backend asks ---------------------------------------------------------

    # --8<-- [start:propose]
    def propose(self, command: Command) -> asyncio.Future[Result]:
        """Append ``command`` to the log (the leader only: :class:`~.raft.NotLeader`
        otherwise; ``ValueError`` if it is too large for an entry); its answer comes when
        it is applied. Wait for it with a timeout, under ``asyncio.shield``."""
        if self.disk_error is not None:
            raise DiskFailed(self.disk_error)
        sends = self.core.propose(command.to_data(), time.monotonic())
        answer = asyncio.get_running_loop().create_future()
        self.proposals[self.core.log.last_index] = Proposal(self.core.term, answer)
        self.settle(sends)
        return answer

    async def read_index(self) -> int:
        """Confirm this node still leads (a heartbeat round, ReadIndex), then wait until it
        has applied the read index; return it. :class:`~.raft.NotLeader` on a follower."""
        if self.disk_error is not None:
            raise DiskFailed(self.disk_error)
        self.next_read += 1
        sends = self.core.read(self.next_read, time.monotonic())
        confirmed = asyncio.get_running_loop().create_future()
        self.reads[self.next_read] = confirmed  # before the writer sees the ready
        self.settle(sends)
        index: int = await confirmed
        if index > self.machine.applied:
            applied = asyncio.get_running_loop().create_future()
            self.applying.append((index, applied))
            await applied
        return index

    # --8<-- [end:propose]

    def tasks(self) -> list[Coroutine[Any, Any, None]]:
        return [*super().tasks(), self.write_ahead()]

    async def close(self) -> None:
        """Once the writer has stopped: let a save in progress finish, then close the disk."""
        if self.saving is not None:
            with contextlib.suppress(OSError):
                await self.saving
        self.log_storage.close()


def merged(batch: list[ReadReady]) -> tuple[list[Entry], HardState | None]:
    """What a batch of readies persists, as one ``save``: the entries (a later ready's
    first entry cuts what an earlier one appended from there on) and the last hard state.
    (The commit index saved beside them is the core's newest: see ``write_ahead``.)"""
    entries: list[Entry] = []
    hard_state: HardState | None = None
    for ready in batch:
        if ready.entries:
            first = ready.entries[0].index
            entries = [entry for entry in entries if entry.index < first] + list(ready.entries)
        hard_state = ready.hard_state if ready.hard_state is not None else hard_state
    return entries, hard_state
