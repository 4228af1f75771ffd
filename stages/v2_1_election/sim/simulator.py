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
import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from stages.v2_1_election.algorithms import ALGORITHMS
from stages.v2_1_election.core import ElectionSettings, Elector, Send
from stages.v2_1_election.messages import Message
from stages.v2_1_election.sim.nemesis import Fault, check_faults, node_names, random_faults
from stages.v2_1_election.sim.network import Network, NetworkConfig
from stages.v2_1_election.sim.trace import Trace
from stages.v2_1_election.votefile import MemoryStorage


@dataclass(frozen=True)
class SimConfig:
    """One run. With ``nemesis`` rates, faults are drawn from the seed; with ``scenario``,
    they are read from it. Faults (loss and duplication too) stop at ``calm_at``.

    ``election`` is the algorithm's own settings; left out, its defaults for ``nodes``
    nodes. ``durable``: a restarted node keeps its term and vote (as with ``--data-dir``).
    """

    nodes: int = 5
    seed: int = 1
    duration: float = 30.0
    algorithm: str = "bully"
    election: ElectionSettings = None  # type: ignore[assignment]  # filled in below
    durable: bool = True
    network: NetworkConfig = field(default_factory=NetworkConfig)
    nemesis: tuple[tuple[str, float], ...] = ()  # (fault kind, faults per second)
    scenario: tuple[Fault, ...] = ()
    ttl: float = 5.0  # the registry forgets a silent node this long after it falls silent

    def __post_init__(self) -> None:
        if self.election is None:
            object.__setattr__(self, "election", ALGORITHMS[self.algorithm].settings(self.nodes))

    @property
    def calm_at(self) -> float:
        if self.scenario:
            return self.scenario[-1].at
        lossy = self.network.drop > 0 or self.network.duplicate > 0
        return round(self.duration * 2 / 3, 3) if self.nemesis or lossy else 0.0

    @property
    def tick_every(self) -> float:
        return self.election.timings().heartbeat_interval / 10  # as the real node's loop


@dataclass(frozen=True)
class Envelope:
    """One copy of a message in flight."""

    id: int
    sender: str
    to: str
    message: Message
    lost: bool


@dataclass
class SimNode:
    """A node as the simulator sees it: a process that may be down, paused or running."""

    name: str
    core: Elector | None = None  # None while crashed
    storage: MemoryStorage = field(default_factory=MemoryStorage)  # the node's --data-dir
    paused: bool = False
    held: list[Envelope] = field(default_factory=list)  # arrived while paused
    silent_since: float | None = None  # crashed or paused since (the registry will notice)
    epoch: float = 0.0  # this process's ticks fall on epoch + k * tick_every
    next_tick: float | None = None
    state: tuple[str, str | None, int] | None = None  # (role, leader, term) last recorded


@contextmanager
def quiet(logger: logging.Logger) -> Iterator[None]:
    """Silence the cores' INFO lines while simulating: thousands of runs, nobody reading."""
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class Simulator:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.new_core = ALGORITHMS[config.algorithm].factory(config.election)
        self.tick_every = config.tick_every
        self.rng = random.Random(config.seed)  # the only source of randomness
        self.network = Network(config.network, random.Random(self.rng.getrandbits(64)))
        self.names = node_names(config.nodes)
        nemesis_rng = random.Random(self.rng.getrandbits(64))
        faults = list(config.scenario) or random_faults(
            self.names, dict(config.nemesis), config.calm_at, nemesis_rng
        )
        check_faults(faults, self.names)
        self.faults = faults
        self.nodes = {name: SimNode(name) for name in self.names}
        self.members = set(self.names)  # what the registry lists
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
            for name in self.names:
                self._start_process(self.nodes[name])
            for name in self.names:
                self._settle(self.nodes[name], self._core(name).set_peers(self.names, 0.0))
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
            **asdict(config.election),  # type: ignore[call-overload]
            **durable,
            "faults": [str(fault) for fault in self.faults],
        }

    def _core(self, name: str) -> Elector:
        core = self.nodes[name].core
        assert core is not None, f"{name} is down"
        return core

    # -- a core's verbs, and what follows each ------------------------------------------

    # --8<-- [start:settle]
    def _settle(self, node: SimNode, sends: list[Send]) -> None:
        """After any verb: record a change of role, send the messages, plan the next tick."""
        core = node.core
        assert core is not None
        state = (core.role.value, core.leader, core.term)
        if state != node.state:
            node.state = state
            fields = {"node": node.name, "role": state[0], "term": state[2], "leader": state[1]}
            self.trace.add(self.now, "role", fields)
        for send in sends:
            self._send(node.name, send)
        self._plan_tick(node)

    def _plan_tick(self, node: SimNode) -> None:
        """Tick on the node's grid (every ``tick_every``, as the real node does), but only
        at the first grid point at or after the core's deadline: earlier ticks do nothing."""
        if node.core is None or node.paused:
            return
        every = self.tick_every
        step = max(math.floor((self.now - node.epoch) / every) + 1, 0)  # strictly after now
        step = max(step, math.ceil((node.core.deadline - node.epoch) / every))
        while node.epoch + step * every < node.core.deadline:  # rounding
            step += 1
        time = node.epoch + step * every
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
        self.trace.add(self.now, fault.action, fields)
        if fault.action == "partition":
            self.network.partition(fault.groups)
        elif fault.action == "heal":
            self.network.heal()
        else:
            assert fault.node is not None
            act = {
                "crash": self._crash,
                "restart": self._restart,
                "pause": self._pause,
                "resume": self._resume,
            }
            act[fault.action](self.nodes[fault.node])

    def _crash(self, node: SimNode) -> None:
        for envelope in node.held:  # a killed process takes its unread messages along
            self._outcome("drop", envelope, reason="crashed")
        node.core, node.paused, node.held, node.next_tick = None, False, [], None
        self._fall_silent(node)

    def _restart(self, node: SimNode) -> None:
        if not self.config.durable:  # its --data-dir is gone, or it never had one
            node.storage = MemoryStorage()
        self._start_process(node)  # a fresh core: no leader; its term and vote if durable
        node.silent_since = None
        self._rejoin(node)

    def _pause(self, node: SimNode) -> None:
        node.paused, node.next_tick = True, None  # no ticks, and messages wait
        self._fall_silent(node)

    def _resume(self, node: SimNode) -> None:
        node.paused, node.silent_since = False, None
        core = self._core(node.name)
        self._settle(node, core.resumed(self.now))  # the real node notices its loop stalled
        self._settle(node, core.tick(self.now))  # the overdue tick runs first, as in asyncio
        held, node.held = node.held, []
        for envelope in held:  # then what waited, in the order it arrived
            self._deliver(node, envelope)
        self._rejoin(node)

    def _start_process(self, node: SimNode) -> None:
        rng = random.Random(self.rng.getrandbits(64))
        node.core = self.new_core(node.name, rng, self.now, node.storage)
        node.epoch = self.now + self.rng.uniform(0, self.tick_every)
        node.state = None  # record the fresh core's state

    def _fall_silent(self, node: SimNode) -> None:
        """The node stops renewing its registration; the registry forgets it after the TTL."""
        if node.silent_since is None:  # a paused node that crashes was silent already
            node.silent_since = self.now
            self.at(self.now + self.config.ttl, self.on_expire, node, self.now)

    def on_expire(self, node: SimNode, since: float) -> None:
        """The registry's TTL ran out: everyone's peer list loses the silent node."""
        if node.silent_since == since and node.name in self.members:
            self.members.remove(node.name)
            self._announce_members()

    def _rejoin(self, node: SimNode) -> None:
        """A restarted or resumed node registers again and reads the registry's list."""
        if node.name not in self.members:
            self.members.add(node.name)
            self._announce_members()
        core = self._core(node.name)
        self._settle(node, core.set_peers(sorted(self.members), self.now))

    def _announce_members(self) -> None:
        self.trace.add(self.now, "members", {"nodes": sorted(self.members, key=self.names.index)})
        for name in self.names:
            node = self.nodes[name]
            if node.core is not None and not node.paused:  # a paused node reads it on resume
                self._settle(node, node.core.set_peers(sorted(self.members), self.now))

    def on_calm(self) -> None:
        self.trace.add(self.now, "calm")
        self.network.calm()

    # --8<-- [end:faults]


def simulate(config: SimConfig) -> Trace:
    return Simulator(config).run()
