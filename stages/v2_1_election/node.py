"""The v2.1 node: the v2 node (key/value, registration, peers) plus an election.

The election itself is a pure state machine behind the
:class:`~stages.v2_1_election.core.Elector` interface: Bully by default, or majority
vote. An :class:`ElectionDriver` (one per app, under :data:`DRIVER`) knows nothing else
of it; it only moves its messages, keeps what it must keep, and fires its timers:

* a loop calls ``tick(now)`` when the core's ``deadline`` comes (on a grid of
  ``heartbeat_interval / 10``, as the simulator ticks), and sleeps in between: until
  then, until a message moves the deadline sooner, or for one heartbeat interval at
  most, so that it notices a stall. When the node's ``PeerView`` changes (a blocking
  query at the registry hears of each change), it hands the core the new peer list
  with ``set_peers`` (the view remembers peers through a registry restart);
* ``GET /cluster/stream`` (a peer's messages on one WebSocket) and ``POST /cluster/{type}``
  (:mod:`~stages.v2_1_election.routes`) hand each message to ``receive`` (at most
  :data:`MAX_MESSAGE_BYTES`, else ``413``, or on a stream close code 1009);
* after every verb, the driver does what the core's ``ready`` says, in etcd's order:
  it *persists* the hard state (the ``--data-dir`` vote file, fsync'd), then *sends* the
  messages through :class:`~stages.v2_1_election.transport.PeerLanes`, one lane and one
  stream per peer, with a bounded queue and a short timeout, so a slow, dead or made-up
  peer never stalls the loop, the HTTP server, or the messages to others.

A later stage subclasses the driver (its ``persist``, ``send``, ``apply``, ``tick``,
``on_message``, ``messages``, ``tasks``) and hands it to ``create_election_app(driver=...)``.

Routes added to the v2 node::

    GET  /cluster/stream    a WebSocket: a peer's messages, one JSON text frame each
    POST /cluster/{type}    one message, of a type of the algorithm: heartbeat, election, ...
    GET  /cluster/status    {"name", "role", "term", "leader", "leader_url", "peers", ...}
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from aiohttp import web

from stages.v1_kv.backend import KVBackend
from stages.v1_kv.client import ClientError
from stages.v2_1_election.core import (
    Elector,
    ElectorFactory,
    HardState,
    Ready,
    Send,
    Storage,
    next_tick,
)
from stages.v2_1_election.messages import Message
from stages.v2_1_election.peers import PEER_GRACE_INTERVALS, PEER_OUTAGE_INTERVALS, PeerView
from stages.v2_1_election.routes import DRIVER, add_cluster_routes
from stages.v2_1_election.transport import PeerLanes
from stages.v2_registry.blocking import follow
from stages.v2_registry.models import NodeInfo
from stages.v2_registry.node import (
    MEMBERSHIP,
    NODE_CONFIG,
    REGISTRY,
    SESSION,
    NodeConfig,
    create_node_app,
)

__all__ = ["DRIVER", "MAX_MESSAGE_BYTES", "ElectionDriver", "create_election_app"]

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024  # v2.1's largest message is well under 1 KiB; a log's may be more


class ElectionDriver:
    """Drives one node's election core: what aiohttp and real timers do for it.

    Every method a later stage may override says so in its docstring; the core is
    ``elector``, its hard state goes to ``storage`` (None: kept nowhere, ``--data-dir``
    not given), and ``max_message_bytes`` bounds what ``POST /cluster/{type}`` reads.
    """

    def __init__(
        self,
        app: web.Application,
        config: NodeConfig,
        elector: Elector,
        storage: Storage | None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        assert max_message_bytes > 0, "a message needs a byte or more"
        self.app, self.elector, self.storage = app, elector, storage
        self.max_message_bytes = max_message_bytes
        self.peers = PeerView(
            config.name,
            grace=PEER_GRACE_INTERVALS * config.heartbeat_interval,
            outage=PEER_OUTAGE_INTERVALS * config.heartbeat_interval,  # we ask at least so often
        )
        self._lanes: PeerLanes | None = None  # from start-up on: they need the session
        self.registry_update: float | None = None  # Membership.updated_at last taken in
        self.view_version = -1  # PeerView.version last handed to the core
        self.next_tick = float("-inf")  # when the sleeping loop will tick next
        self.wake = asyncio.Event()  # a sooner deadline: tick now

    @property
    def lanes(self) -> PeerLanes:
        assert self._lanes is not None, "the election has not started"
        return self._lanes

    @property
    def messages(self) -> tuple[type[Message], ...]:
        """The message types ``POST /cluster/{type}`` takes: the core's. Override to add a
        stage's own (a write to replicate, say), and handle them in ``on_message``."""
        return self.elector.messages

    # --8<-- [start:send]
    def settle(self, sends: list[Send]) -> None:
        """After every verb of the core, what its ``ready`` says, in etcd's order: persist the
        hard state, send the messages (nobody waits for a slow peer), apply what is committed.
        If the verb moved the core's deadline before the loop's next tick, wake the loop."""
        ready = self.elector.ready(sends)
        self.persist(ready)  # on disk before any message that depends on it leaves
        self.send(ready.messages)
        self.apply(ready)
        if self.elector.deadline < self.next_tick:
            self.wake.set()

    def persist(self, ready: Ready) -> None:
        """Keep the core's term and vote, if they changed; when this returns they survive a
        crash. Override to keep more (the entries a log's core adds to its ``Ready``)."""
        if ready.hard_state is not None and self.storage is not None:
            self.storage.save(ready.hard_state)

    def send(self, messages: list[Send]) -> None:
        """Hand messages to the peers' lanes. Override to count or route them."""
        self.lanes.send(messages)

    def apply(self, ready: Ready) -> None:
        """Apply what the core says is committed, after its messages left. An election
        commits nothing; a replicated log's driver applies its committed entries here."""

    def sync_peers(self, now: float) -> None:
        """Take the registry's latest answer into the view, and a changed view into the core."""
        membership, view = self.app[MEMBERSHIP], self.peers
        if not membership.registered:
            return  # a node the registry has not accepted takes no part (its name may be taken)
        if membership.updated_at != self.registry_update:
            self.registry_update = membership.updated_at
            view.update(membership.peers, now)
        if view.version != self.view_version:
            before = self.elector.peers
            self.view_version = view.version
            self.settle(self.elector.set_peers(view.names(), now))
            self.lanes.forget(set(before - self.elector.peers))

    # --8<-- [end:send]

    async def refresh_peers(self) -> None:
        """Fetch the registry's node list now, between two regular heartbeats."""
        try:
            nodes = await self.app[REGISTRY].nodes()
        except ClientError as exc:
            log.debug("Could not refresh peers: %s", exc)
            return  # the registry is away: believe what we believed
        self.take_peers(nodes, time.monotonic())

    def take_peers(self, nodes: list[NodeInfo], now: float) -> None:  # the registry's list
        self.app[MEMBERSHIP].update_peers(nodes, now)
        self.sync_peers(now)

    # --8<-- [start:on_message]
    async def on_message(self, message: Message) -> None:
        """One valid message from a peer (on its stream, or ``POST /cluster/{type}``): to the
        core. Override to take the types a stage adds to ``messages``, and pass the others on."""
        self.lanes.heard_from(message.sender)
        self.settle(self.elector.receive(message, time.monotonic()))

    # --8<-- [end:on_message]

    def tick(self, now: float) -> None:
        """Let time pass for the core. Override to do more on the same beat."""
        self.settle(self.elector.tick(now))

    # --8<-- [start:election_loop]
    async def run(self, tick_every: float) -> None:
        """Forever: pass on membership changes, let time pass, send what the core says; in
        between, sleep until the core's deadline, a sooner one, or one heartbeat interval."""
        elector, membership = self.elector, self.app[MEMBERSHIP]
        interval = elector.timings.heartbeat_interval
        stall = 2 * interval  # woken this late: we were not running
        joined = False
        epoch = last = planned = time.monotonic()  # the grid: epoch + k * tick_every
        while True:
            now = time.monotonic()
            if now - last > stall or now - planned > stall - tick_every:  # stopped, or starved
                log.info(
                    "%s was not running for %.2fs; giving the leader time to be heard",
                    elector.name,
                    now - last,
                )
                self.settle(elector.resumed(now))
            last = now
            if membership.registered:  # a node the registry refused takes no part
                if not joined:  # our wait for a leader starts now, not when the process did
                    joined = True
                    self.settle(elector.resumed(now))
                self.sync_peers(now)
                self.tick(now)
            planned = next_tick(now, min(elector.deadline, now + interval), epoch, tick_every)
            self.next_tick = planned
            self.wake.clear()
            with contextlib.suppress(TimeoutError):  # the time has come
                async with asyncio.timeout(max(0.0, planned - time.monotonic())):
                    await self.wake.wait()

    async def watch_peers(self, every: float) -> None:
        """Hear of each change to the registry's list as it happens (a blocking query, asked
        at most every ``every`` s): an election must know its peers before its first timeout."""
        config = self.app[NODE_CONFIG]
        session, timeout = self.app[SESSION], config.registry_timeout
        await follow(config.registry_url, session, timeout, every, self.take_peers)

    def tasks(self) -> list[Coroutine[Any, Any, None]]:
        """What runs while the app does: the loop and the peer watch. Override to add more."""
        timings = self.elector.timings
        return [
            self.run(timings.heartbeat_interval / 10),
            self.watch_peers(timings.leader_timeout / 2),
        ]

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """The election runs exactly while the app does; messages in flight end with it.

        On shutdown (by then the server takes no more requests) a leader resigns, and
        waits up to a message timeout for its peers to hear it, before membership's
        cleanup deregisters the node.
        """
        timings = self.elector.timings
        self._lanes = PeerLanes(
            app[SESSION],
            url_of=self.peers.url,
            refresh=self.refresh_peers,
            timeout=timings.message_timeout,  # no message is worth waiting longer than an answer
            min_backoff=timings.heartbeat_interval,
            keepalive=timings.leader_timeout,  # a stream quiet for this long is pinged
        )
        running = [asyncio.create_task(task) for task in self.tasks()]
        yield
        for task in running:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        resignation = self.elector.resign(time.monotonic())
        if resignation:  # we led: the peers elect someone else now, not after leader_timeout
            self.settle(resignation)
            await self.lanes.flush(timeout=timings.message_timeout)
        await self.lanes.close()

    # --8<-- [end:election_loop]


# (app, config, core, storage, max_message_bytes) -> the app's driver: the class, or a subclass
DriverFactory = Callable[
    [web.Application, NodeConfig, Elector, Storage | None, int], ElectionDriver
]


# --8<-- [start:create_election_app]
def create_election_app(
    config: NodeConfig,
    new_elector: ElectorFactory,
    storage: Storage | None = None,
    rng: random.Random | None = None,
    *,
    driver: DriverFactory = ElectionDriver,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
    backend: KVBackend | None = None,
) -> web.Application:
    """The v2 node's app, plus the election (whichever ``new_elector`` builds) and its routes.

    ``storage`` keeps the core's term and vote across restarts (``--data-dir``), for the
    algorithms that need it; None keeps nothing. ``driver`` drives the core: a later stage
    passes its subclass of :class:`ElectionDriver`, and a larger ``max_message_bytes`` if
    its messages need it; ``backend``, where its key/value writes go (v1's ``LocalKV``: this
    node's own store).
    """
    app = create_node_app(config, backend=backend)
    restored = storage.load() if storage is not None else HardState()
    elector = new_elector(config.name, rng or random.Random(), time.monotonic(), restored)
    app[DRIVER] = driver(app, config, elector, storage, max_message_bytes)
    add_cluster_routes(app)
    # After membership's cleanup context: the election stops first, the session stays open.
    app.cleanup_ctx.append(app[DRIVER].lifecycle)
    return app


# --8<-- [end:create_election_app]
