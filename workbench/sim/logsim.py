"""The simulator for v3.0's replicated log: the engine, plus a disk, a state machine, clients.

:class:`LogSimulator` is :class:`~workbench.sim.simulator.Simulator` with three parts
the log needs, and nothing of the engine copied:

* **a simulated disk** per node: a write takes a few milliseconds (``SYNC``), one at a
  time, in order; a node sends the messages of a ``ready``, and applies what it commits,
  only once its disk has what that ``ready`` asked it to persist (etcd's contract). A crash
  loses every write not yet synced; the restarted core gets back what was.
* **a key/value machine** per node, fed the committed entries in order.
* **clients** (:mod:`~workbench.sim.clients`) that send put, get and cas to the leader
  and leave a history for the checker (``op`` records in the trace).

``--unsafe ack-before-sync`` sends and applies at once, before the disk has synced.
"""

from __future__ import annotations

import functools
import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from stages.v2_1_election.core import Elector, HardState, Ready, Send
from stages.v2_1_election.quorum_config import QuorumConfig
from stages.v3_replicated_log.kv import Command, KeyValueMachine, Result
from stages.v3_replicated_log.messages import Entry
from stages.v3_replicated_log.raft import LogReady, NotLeader, RaftCore
from workbench.sim.clients import RETRY_AFTER, THINK, Client, Request
from workbench.sim.extras import Extras
from workbench.sim.simulator import Simulator
from workbench.sim.unsafe import new_core
from workbench.sim.world import SimConfig, SimNode

CLIENTS = 3
MAX_MESSAGES = 50_000  # a run sends about 15,000 to 20,000; far more is a storm, and the run stops
SYNC = (0.001, 0.005)  # seconds one write to a node's disk takes


@dataclass
class Disk:
    """What one node's disk holds: the entries and hard state it synced, and its queue."""

    entries: list[Entry] = field(default_factory=list)
    hard: HardState = field(default_factory=HardState)
    free_at: float = 0.0  # busy with earlier writes until then
    boot: int = 0  # the process writing; a crash ends its pending writes

    def write(self, ready: LogReady) -> None:
        if ready.hard_state is not None:
            self.hard = ready.hard_state
        if ready.entries:  # cut what conflicts, then append
            del self.entries[ready.entries[0].index - 1 :]
            self.entries.extend(ready.entries)


def entry_id(entry: Entry) -> str:
    """How the trace names an entry's command: ``c1.5`` (client c1, seq 5), or ``no-op``."""
    return "no-op" if entry.data is None else _command_id(entry.data)


@functools.lru_cache(maxsize=4096)  # each entry travels, is logged and applied many times
def _command_id(data: str) -> str:
    command = Command.from_data(data)
    return f"{command.client}.{command.seq}"


def described(entries: tuple[Entry, ...] | list[Entry]) -> list[list[Any]]:
    return [[entry.term, entry_id(entry)] for entry in entries]


class LogExtras(Extras):
    """The engine's maker of cores, for log cores: each from its node's disk."""

    def __init__(self, config: SimConfig, disks: dict[str, Disk]) -> None:
        super().__init__(config.algorithm, config.election, config.nodes, config.extras)
        self.unsafe, self.disks = config.unsafe, disks

    def new_core(self, name: str, rng: random.Random, now: float, restored: HardState) -> Elector:
        settings = self.settings_of(name)
        assert isinstance(settings, QuorumConfig)
        entries = list(self.disks[name].entries)
        return new_core(self.unsafe, name, settings, rng, now, restored, entries)


class LogSimulator(Simulator):
    def __init__(self, config: SimConfig) -> None:
        super().__init__(config)  # the engine draws from the seed first, as it always does
        self.disks = {name: Disk() for name in self.names}
        self.machines = {name: KeyValueMachine() for name in self.names}
        self.waiting: dict[str, dict[tuple[str, int], tuple[Client, Request]]] = {
            name: {} for name in self.names
        }
        self.disk_rng = random.Random(self.rng.getrandbits(64))
        self.client_rng = random.Random(self.rng.getrandbits(64))
        self.values = itertools.count(1)  # every value written is new
        self.processes = itertools.count(CLIENTS)  # processes 0..CLIENTS-1 are the first
        clients = []
        for i in range(CLIENTS):
            rng = random.Random(self.client_rng.getrandbits(64))
            clients.append(Client(f"c{i + 1}", i, rng, self.client_rng.choice(self.voters)))
        for client in clients:  # then each one's first call
            self.at(self.client_rng.uniform(*THINK), self._call, client)
        self.sent = 0
        self.extras = LogExtras(config, self.disks)  # builds cores from the disks

    def _header(self) -> dict[str, Any]:
        unsafe = {"unsafe": list(self.config.unsafe)} if self.config.unsafe else {}
        return {**super()._header(), **unsafe}

    def _send(self, sender: str, send: Send) -> None:
        """The engine's, up to :data:`MAX_MESSAGES`: then the run stops (a ``stopped`` record)."""
        self.sent += 1
        if self.sent == MAX_MESSAGES:
            self.trace.add(self.now, "stopped", {"reason": f"{MAX_MESSAGES} messages sent"})
            self.queue.clear()
        if self.sent < MAX_MESSAGES:
            super()._send(sender, send)

    # -- the node's disk and state machine --------------------------------------------

    def _start_process(self, node: SimNode) -> None:
        disk = self.disks[node.name]
        self.machines[node.name] = KeyValueMachine()  # applied again from the first entry
        fields = {"node": node.name, "term": disk.hard.term, "entries": described(disk.entries)}
        self.trace.add(self.now, "restored", fields)
        node.storage.save(disk.hard)  # what the engine hands the new core: the disk's
        super()._start_process(node)

    # --8<-- [start:persist]
    def _carry_out(self, node: SimNode, ready: Ready) -> None:
        """Persist, then send, then apply: the messages and the applying wait for the disk."""
        assert isinstance(ready, LogReady)
        disk = self.disks[node.name]
        if ready.entries:
            first = ready.entries[0].index
            fields = {"node": node.name, "from": first, "entries": described(ready.entries)}
            self.trace.add(self.now, "log", fields)
        persist = ready.hard_state is not None or bool(ready.entries)
        if not persist and disk.free_at <= self.now:
            self._send_and_apply(node, ready)  # nothing to wait for
            return
        if persist:
            disk.free_at = max(self.now, disk.free_at) + self.disk_rng.uniform(*SYNC)
        early = "ack-before-sync" in self.config.unsafe
        if early:
            self._send_and_apply(node, ready)
        self.at(disk.free_at, self._synced, node, disk.boot, ready, not early)

    def _synced(self, node: SimNode, boot: int, ready: LogReady, then_send: bool) -> None:
        disk = self.disks[node.name]
        if disk.boot != boot:
            return  # the process crashed before its disk had this
        disk.write(ready)
        if then_send:
            self._send_and_apply(node, ready)

    # --8<-- [end:persist]

    def _send_and_apply(self, node: SimNode, ready: LogReady) -> None:
        for send in ready.messages:
            self._send(node.name, send)
        if ready.committed:
            fields = {
                "node": node.name,
                "from": ready.committed[0].index,
                "entries": described(ready.committed),
            }
            self.trace.add(self.now, "apply", fields)
        machine, waiting = self.machines[node.name], self.waiting[node.name]
        for entry in ready.committed:
            result = machine.apply(entry)
            if result is None or entry.data is None:
                continue
            command = Command.from_data(entry.data)
            waiter = waiting.pop((command.client, command.seq), None)
            if waiter is not None:
                self.at(self.now + self._latency(), self._answered, *waiter, result, node.name)

    def _crash(self, node: SimNode) -> None:
        super()._crash(node)
        disk = self.disks[node.name]
        disk.boot += 1  # what it had not synced is lost
        disk.free_at = self.now
        self.waiting[node.name] = {}

    def _restart(self, node: SimNode) -> None:
        if not self.config.durable:
            self.disks[node.name] = Disk(boot=self.disks[node.name].boot)
        super()._restart(node)

    # -- the clients ------------------------------------------------------------------

    def _latency(self) -> float:
        network = self.config.network
        return self.client_rng.uniform(network.min_latency, network.max_latency)

    def _history(self, client: Client, event: dict[str, Any], **more: Any) -> None:
        self.trace.add(self.now, "op", {**event, "client": client.name, **more})

    def _call(self, client: Client) -> None:
        request = client.next_request(self.now, next(self.values))
        self._history(client, client.event("invoke", request, request.value))
        self._ask(client, request)

    def _ask(self, client: Client, request: Request) -> None:
        request.attempt += 1
        arrive = self.now + self._latency()
        self.at(arrive, self._request_arrives, client.guess, client, request)
        self.at(self.now + RETRY_AFTER, self._no_answer, client, request, request.attempt)

    def _request_arrives(self, name: str, client: Client, request: Request) -> None:
        node = self.nodes[name]
        if node.core is None or node.paused:
            return  # no answer: the client asks elsewhere after RETRY_AFTER
        core = node.core
        assert isinstance(core, RaftCore)
        try:
            sends = core.propose(request.command.to_data(), self.now)
        except NotLeader as exc:
            attempt = request.attempt
            self.at(self.now + self._latency(), self._redirected, client, request, attempt,
                    exc.leader)  # fmt: skip
            return
        self.waiting[name][(client.name, request.command.seq)] = (client, request)
        self._settle(node, sends)

    def _answered(self, client: Client, request: Request, result: Result, node: str) -> None:
        if client.request is not request:
            return  # an answer to a copy it has given up on, or already had
        entry = f"{client.name}.{request.command.seq}"
        self._history(client, client.answered(result), index=result.index, entry=entry, node=node)
        self.at(self.now + self.client_rng.uniform(*THINK), self._call, client)

    def _redirected(
        self, client: Client, request: Request, attempt: int, leader: str | None
    ) -> None:
        if client.request is not request or request.attempt != attempt:
            return
        if leader is not None:
            client.guess = leader
            self._ask(client, request)
        else:  # nobody leads yet: wait a moment, then try another node
            client.guess = self.client_rng.choice(self.voters)
            self.at(self.now + 0.05, self._ask, client, request)

    def _no_answer(self, client: Client, request: Request, attempt: int) -> None:
        if client.request is not request or request.attempt != attempt:
            return
        if self.now >= request.give_up:
            self._history(client, client.unknown(next(self.processes)))
            self.at(self.now + self.client_rng.uniform(*THINK), self._call, client)
            return
        client.guess = self.client_rng.choice([n for n in self.voters if n != client.guess])
        self._ask(client, request)
