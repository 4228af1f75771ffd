"""The deterministic simulator: the real election core, a virtual clock, a virtual network.

Nothing here reads a clock or uses the global random generator. An event queue (a heap
of ``(time, sequence number, action, arguments)``) holds everything that will happen:
message arrivals, ticks, faults. The loop pops the earliest event, sets the virtual
clock to its time and runs it. The sequence number breaks ties in the order events were
scheduled, so the same seed always gives the same run, byte for byte.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from stages.v2_1_election.core import Elector, Ready, Send, next_tick
from stages.v2_1_election.votefile import MemoryStorage
from workbench.sim.algorithms import sim_algorithm
from workbench.sim.directory import Directory
from workbench.sim.extras import Extras
from workbench.sim.nemesis import Fault, check_faults, node_names, random_faults
from workbench.sim.network import Network
from workbench.sim.trace import Trace
from workbench.sim.world import Envelope, SimConfig, SimNode, quiet

__all__ = ["SimConfig", "Simulator", "simulate"]


class Simulator:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.extras = Extras(config.algorithm, config.election, config.nodes, config.extras)
        self.tick_every = config.tick_every
        self.rng = random.Random(config.seed)  # the only source of randomness
        self.network = Network(config.network, random.Random(self.rng.getrandbits(64)))
        self.voters = node_names(config.nodes)
        self.names = self.voters + self.extras.names
        nemesis_rng = random.Random(self.rng.getrandbits(64))
        self.faults = list(config.scenario) or random_faults(
            self.voters, dict(config.nemesis), config.calm_at, nemesis_rng, self.extras.names
        )
        check_faults(self.faults, self.names, absent=self.extras.names)
        self.nodes = {name: SimNode(name) for name in self.names}
        self.directory = Directory(config.ttl, config.registry_interval)  # the real ones
        self.poll_every = config.election.timings().leader_timeout / 2  # as watch_peers
        self.listed: list[str] = []  # what the registry listed when last read
        self.trace = Trace()
        self.now = 0.0
        self.queue: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self.sequence = itertools.count()
        self.ids = itertools.count(1)

    # --8<-- [start:loop]
    def at(self, time: float, action: Callable[..., None], *args: Any) -> None:
        """Schedule ``action(*args)`` at virtual ``time``."""
        heapq.heappush(self.queue, (time, next(self.sequence), action, args))

    def run(self) -> Trace:
        config = self.config
        self.trace.add(0.0, "start", self._header())
        with quiet(logging.getLogger("stages")):
            for name in self.voters:  # every process starts, and registers (extras: on join)
                self._start_process(self.nodes[name])
                self._beat(self.nodes[name], self.nodes[name].loops)
            for name in self.voters:  # then each reads the registry, and on its own schedule
                self._poll(self.nodes[name], self.nodes[name].loops)
            for fault in self.faults:
                self.at(fault.at, self.on_fault, fault)
            self.at(config.calm_at, self.on_calm)  # after the faults at the same instant
            while self.queue and self.queue[0][0] <= config.duration:
                self.now, _, action, args = heapq.heappop(self.queue)
                action(*args)
        self.trace.add(config.duration, "end")
        return self.trace

    # --8<-- [end:loop]

    def _header(self) -> dict[str, Any]:
        config = self.config
        durable = {} if config.durable else {"durable": False}
        return {
            "algorithm": config.algorithm,
            "seed": config.seed,
            "nodes": self.names,
            "duration": config.duration,
            "calm_at": config.calm_at,
            **asdict(config.election),
            **durable,
            "faults": [str(fault) for fault in self.faults],
            **self.extras.header(),
        }

    def _core(self, name: str) -> Elector:
        core = self.nodes[name].core
        assert core is not None, f"{name} is down"
        return core

    # -- a core's verbs, and what follows each ------------------------------------------

    # --8<-- [start:settle]
    def _settle(self, node: SimNode, sends: list[Send]) -> None:
        """After any verb: record a change of role, do what the core's ``ready`` says, as the
        real node does (keep the hard state on the node's disk, then send the messages),
        and plan the next tick."""
        core = node.core
        assert core is not None
        state = (core.role.value, core.leader, core.term)
        if state != node.state:
            node.state = state
            fields = {"node": node.name, "role": state[0], "term": state[2], "leader": state[1]}
            self.trace.add(self.now, "role", fields)
        self._carry_out(node, core.ready(sends))
        self._plan_tick(node)

    def _carry_out(self, node: SimNode, ready: Ready) -> None:
        """Persist, then send (a later stage's simulator adds its disk and its applier)."""
        if ready.hard_state is not None:
            node.storage.save(ready.hard_state)  # before any message that depends on it
        for send in ready.messages:
            self._send(node.name, send)

    def _plan_tick(self, node: SimNode) -> None:
        """Tick on the node's grid (every ``tick_every``, as the real node does), but only
        at the first grid point at or after the core's deadline: earlier ticks do nothing."""
        if node.core is None or node.paused:
            return
        time = next_tick(self.now, node.core.deadline, node.epoch, self.tick_every)
        if time != node.next_tick:
            node.next_tick = time
            self.at(time, self.on_tick, node, time)

    def on_tick(self, node: SimNode, time: float) -> None:
        if node.next_tick != time or node.core is None or node.paused:
            return  # a tick planned before the deadline moved: skip it
        node.next_tick = None
        self._settle(node, node.core.tick(self.now))

    # --8<-- [end:settle]

    # -- the network ------------------------------------------------------------------

    # --8<-- [start:send]
    def _send(self, sender: str, send: Send) -> None:
        message_id = next(self.ids)
        fields = {"id": message_id, "from": sender, "to": send.to, "msg": send.message.to_json()}
        self.trace.add(self.now, "send", fields)
        for copy, (delay, lost) in enumerate(self.network.copies()):
            if copy:
                message_id = next(self.ids)
                fields = {
                    "id": message_id,
                    "from": sender,
                    "to": send.to,
                    "type": send.message.kind,
                }
                self.trace.add(self.now, "duplicate", fields)
            envelope = Envelope(message_id, sender, send.to, send.message, lost)
            self.at(self.now + delay, self.on_arrive, envelope)

    def on_arrive(self, envelope: Envelope) -> None:
        node = self.nodes[envelope.to]
        if envelope.lost:
            self._outcome("drop", envelope, reason="lost")
        elif not self.network.can_reach(envelope.sender, envelope.to):
            self._outcome("drop", envelope, reason="partition")
        elif node.core is None:
            self._outcome("drop", envelope, reason="crashed")
        elif node.paused:  # like a stopped process: the message waits in its socket
            self._outcome("hold", envelope)
            node.held.append(envelope)
        else:
            self._deliver(node, envelope)

    def _deliver(self, node: SimNode, envelope: Envelope) -> None:
        self._outcome("deliver", envelope)
        assert node.core is not None
        self._settle(node, node.core.receive(envelope.message, self.now))

    # --8<-- [end:send]

    def _outcome(self, event: str, envelope: Envelope, reason: str | None = None) -> None:
        """Record what became of a message: deliver, drop (with the reason) or hold."""
        fields = {
            "id": envelope.id,
            "from": envelope.sender,
            "to": envelope.to,
            "type": envelope.message.kind,
        }
        if reason:
            fields["reason"] = reason
        self.trace.add(self.now, event, fields)

    # -- faults ---------------------------------------------------------------------------

    # --8<-- [start:faults]
    def on_fault(self, fault: Fault) -> None:
        fields: dict[str, Any] = {}
        if fault.node:
            fields["node"] = fault.node
        if fault.groups:
            fields["groups"] = [list(group) for group in fault.groups]
        if fault.action == "join":
            fields["kind"] = self.extras.kinds[fault.node or ""]
        self.trace.add(self.now, fault.action, fields)
        if fault.action == "partition":
            self.network.partition(fault.groups)
        elif fault.action == "heal":
            self.network.heal()
        elif fault.action == "registry-restart":
            self.directory.restart()  # empty; it fills up again as the nodes' beats arrive
        else:
            assert fault.node is not None
            act = {
                "crash": self._crash,
                "restart": self._restart,
                "join": self._restart,  # an extra node's first start
                "pause": self._pause,
                "resume": self._resume,
            }
            act[fault.action](self.nodes[fault.node])

    def _crash(self, node: SimNode) -> None:
        for envelope in node.held:  # a killed process takes its unread messages along
            self._outcome("drop", envelope, reason="crashed")
        node.core, node.paused, node.held, node.next_tick = None, False, [], None
        node.loops += 1  # it stops renewing its registration, and reading the registry

    def _restart(self, node: SimNode) -> None:
        if not self.config.durable:  # its --data-dir is gone, or it never had one
            node.storage = MemoryStorage()
        self._start_process(node)  # a fresh core: no leader; its term and vote if durable
        self._rejoin(node)

    def _pause(self, node: SimNode) -> None:
        node.paused, node.next_tick = True, None  # no ticks, and messages wait
        node.loops += 1  # nor registry heartbeats, nor reads

    def _resume(self, node: SimNode) -> None:
        node.paused = False
        core = self._core(node.name)
        self._settle(node, core.resumed(self.now))  # the real node notices its loop stalled
        self._settle(node, core.tick(self.now))  # the overdue tick runs first, as in asyncio
        held, node.held = node.held, []
        for envelope in held:  # then what waited, in the order it arrived
            self._deliver(node, envelope)
        self._rejoin(node)

    def _start_process(self, node: SimNode) -> None:
        rng = random.Random(self.rng.getrandbits(64))
        node.core = self.extras.new_core(node.name, rng, self.now, node.storage.load())
        node.epoch = self.now + self.rng.uniform(0, self.tick_every)
        node.state = None  # record the fresh core's state
        node.loops += 1
        self.directory.start(node.name)  # a new process: it knows no peers yet

    def _rejoin(self, node: SimNode) -> None:
        """A restarted or resumed node registers at once and reads the registry's list."""
        node.loops += 1  # its loops start again, from now
        self._beat(node, node.loops)
        self._poll(node, node.loops)

    # --8<-- [end:faults]

    # -- the registry, as each node sees it ------------------------------------------

    # --8<-- [start:registry]
    def _beat(self, node: SimNode, loops: int) -> None:
        """The node's registry heartbeat: register again, every ``registry_interval``."""
        if node.loops == loops:  # a crash or pause stopped this loop
            self.directory.register(node.name, self.now)
            self.at(self.now + self.config.registry_interval, self._beat, node, loops)

    def _poll(self, node: SimNode, loops: int) -> None:
        """The node reads the registry; a change of its peer view goes to the core."""
        if node.loops != loops or node.core is None:
            return
        listed, changed = self.directory.read(node.name, self.now)
        listed = sorted(listed, key=self.names.index)
        if listed != self.listed:  # the trace shows what the registry lists, when it changes
            self.listed = listed
            self.trace.add(self.now, "members", {"nodes": listed})
        if changed:  # as the real node's sync_peers: a changed view goes to the core
            peers = sorted(self.directory.peers(node.name))
            self._settle(node, node.core.set_peers(peers, self.now))
        self.at(self.now + self.poll_every, self._poll, node, loops)

    # --8<-- [end:registry]

    def on_calm(self) -> None:
        self.trace.add(self.now, "calm")
        self.network.calm()


def simulate(config: SimConfig) -> Trace:
    """Run ``config`` on its algorithm's simulator: this one, or a later stage's subclass."""
    return (sim_algorithm(config.algorithm).simulator or Simulator)(config).run()
