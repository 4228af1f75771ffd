"""The v2.1 node: the v2 node (key/value, registration, peers) plus an election.

The election itself is a pure state machine behind the
:class:`~stages.v2_1_election.core.Elector` interface: Bully by default, or majority
vote. This module knows nothing else of it; it only moves its messages and fires its
timers:

* a loop calls ``tick(now)`` when the core's ``deadline`` comes (on a grid of
  ``heartbeat_interval / 10``, as the simulator ticks), and sleeps in between: until
  then, until a message moves the deadline sooner, or for one heartbeat interval at
  most, so that it notices a stall and a changed membership. When the node's
  :class:`~stages.v2_1_election.peers.PeerView` changes, it hands the core the new
  peer list with ``set_peers`` (the view remembers peers through a registry restart);
* ``POST /cluster/{type}`` hands an incoming message to ``receive``;
* whatever those verbs return goes to :class:`~stages.v2_1_election.transport.PeerLanes`,
  one lane per peer with a bounded queue and a short timeout, so a slow, dead or
  made-up peer never stalls the loop, the HTTP server, or the messages to others.

Routes added to the v2 node::

    POST /cluster/{type}    one per message type of the algorithm: heartbeat, election, ...,
                            resign (Bully), or heartbeat, heartbeat_ack, request_vote, vote
                            (quorum)
    GET  /cluster/status    {"name", "role", "term", "leader", "leader_url", "peers", "algorithm",
                             "voter"}
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web

from stages.v1_kv.client import ClientError
from stages.v1_kv.errors import ApiError
from stages.v2_1_election.client import ClusterStatus
from stages.v2_1_election.core import Elector, ElectorFactory, Send, Storage, next_tick
from stages.v2_1_election.peers import PEER_GRACE_INTERVALS, PEER_OUTAGE_INTERVALS, PeerView
from stages.v2_1_election.transport import PeerLanes
from stages.v2_registry.models import InvalidMessage
from stages.v2_registry.node import (
    MEMBERSHIP,
    REGISTRY,
    SESSION,
    NodeConfig,
    create_node_app,
)
from stages.v2_registry.server import read_json

log = logging.getLogger(__name__)


@dataclass
class Seen:
    """What the election loop has already passed on, so that it acts only on changes, and
    when it means to wake up next."""

    registry_update: float | None = None  # Membership.updated_at last taken into the view
    view_version: int = -1  # PeerView.version last handed to the core
    next_tick: float = float("-inf")  # when the sleeping loop will tick next
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # a sooner deadline: tick


ELECTOR = web.AppKey("elector", Elector)
PEERS = web.AppKey("peers", PeerView)
LANES = web.AppKey("lanes", PeerLanes)
SEEN = web.AppKey("seen", Seen)


# --8<-- [start:send]
def dispatch(app: web.Application, sends: list[Send]) -> None:
    """Hand what the core says to the peers' lanes: nobody waits for a slow peer. If the
    verb moved the core's deadline before the loop's next tick, wake the loop."""
    app[LANES].send(sends)
    if app[ELECTOR].deadline < app[SEEN].next_tick:
        app[SEEN].wake.set()


def sync_peers(app: web.Application, now: float) -> None:
    """Take the registry's latest answer into the view, and a changed view into the core."""
    membership, view, seen = app[MEMBERSHIP], app[PEERS], app[SEEN]
    if not membership.registered:
        return  # a node the registry has not accepted takes no part (its name may be taken)
    if membership.updated_at != seen.registry_update:
        seen.registry_update = membership.updated_at
        view.update(membership.peers, now)
    if view.version != seen.view_version:
        before = app[ELECTOR].peers
        seen.view_version = view.version
        dispatch(app, app[ELECTOR].set_peers(view.names(), now))
        app[LANES].forget(set(before - app[ELECTOR].peers))


# --8<-- [end:send]


async def refresh_peers(app: web.Application) -> None:
    """Fetch the registry's node list now, between two regular heartbeats."""
    try:
        nodes = await app[REGISTRY].nodes()
    except ClientError as exc:
        log.debug("Could not refresh peers: %s", exc)
        return  # the registry is away: believe what we believed
    now = time.monotonic()
    app[MEMBERSHIP].update_peers(nodes, now)
    sync_peers(app, now)


# --8<-- [start:receive_message]
async def receive_message(request: web.Request) -> web.Response:
    """``POST /cluster/{type}``: one message for the election core."""
    if not request.app[MEMBERSHIP].registered:
        raise ApiError(
            503,
            "not_registered",
            "this node has not joined the cluster yet "
            "(its registration with the registry has not succeeded)",
        )
    elector, kind = request.app[ELECTOR], request.match_info["kind"]
    types = {cls.kind: cls for cls in elector.messages}  # what this algorithm's nodes send
    if kind not in types:
        known = ", ".join(types)
        raise ApiError(
            404, "unknown_message", f"{elector.algorithm} has no message {kind!r}; known: {known}"
        )
    try:
        message = types[kind].from_json(await read_json(request))
    except InvalidMessage as exc:
        raise ApiError(400, "invalid_message", str(exc)) from None
    if message.sender == elector.name:
        raise ApiError(
            400,
            "invalid_message",
            f"a {kind} from {message.sender!r} to itself: nodes never "
            "send themselves messages, so this one is not what it claims to be",
        )
    request.app[LANES].heard_from(message.sender)
    dispatch(request.app, elector.receive(message, time.monotonic()))
    return web.json_response({"accepted": message.kind}, status=202)


# --8<-- [end:receive_message]


async def get_status(request: web.Request) -> web.Response:
    elector = request.app[ELECTOR]
    leader_url = None
    if elector.leader == elector.name:  # ourselves: the address this request reached
        leader_url = str(request.url.origin())
    elif elector.leader is not None:
        leader_url = request.app[PEERS].url(elector.leader)
    status = ClusterStatus(
        name=elector.name,
        role=elector.role.value,
        term=elector.term,
        leader=elector.leader,
        leader_url=leader_url,
        peers=tuple(sorted(elector.peers)),
        algorithm=elector.algorithm,
        voter=elector.voter,
    )
    return web.json_response(status.to_json())


# --8<-- [start:election_loop]
async def run_election(app: web.Application, tick_every: float) -> None:
    """Forever: pass on membership changes, let time pass, send what the core says; in
    between, sleep until the core's deadline, a sooner one, or one heartbeat interval."""
    elector, membership, seen = app[ELECTOR], app[MEMBERSHIP], app[SEEN]
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
            dispatch(app, elector.resumed(now))
        last = now
        if membership.registered:  # a node the registry refused takes no part
            if not joined:  # our wait for a leader starts now, not when the process did
                joined = True
                dispatch(app, elector.resumed(now))
            sync_peers(app, now)
            dispatch(app, elector.tick(now))
        planned = next_tick(now, min(elector.deadline, now + interval), epoch, tick_every)
        seen.next_tick = planned
        seen.wake.clear()
        with contextlib.suppress(TimeoutError):  # the time has come
            async with asyncio.timeout(max(0.0, planned - time.monotonic())):
                await seen.wake.wait()


async def watch_peers(app: web.Application, every: float) -> None:
    """Refresh the peer list more often than the registry heartbeat (every second) does.

    An election must know who is out there before its first timeout, so a node
    looks at the registry twice per leader timeout (``Timings.leader_timeout``).
    """
    while True:
        await refresh_peers(app)
        await asyncio.sleep(every)


async def election(app: web.Application) -> AsyncIterator[None]:
    """The election runs exactly while the app does; messages in flight end with it.

    On shutdown (by then the server takes no more requests) a leader resigns, and
    waits up to a message timeout for its peers to hear it, before membership's
    cleanup deregisters the node.
    """
    timings = app[ELECTOR].timings
    app[LANES] = PeerLanes(
        app[SESSION],
        url_of=app[PEERS].url,
        refresh=lambda: refresh_peers(app),
        timeout=timings.message_timeout,  # no message is worth waiting for longer than an answer
        min_backoff=timings.heartbeat_interval,
    )
    tasks = [
        asyncio.create_task(run_election(app, timings.heartbeat_interval / 10)),
        asyncio.create_task(watch_peers(app, timings.leader_timeout / 2)),
    ]
    yield
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    resignation = app[ELECTOR].resign(time.monotonic())
    if resignation:  # we led: the peers elect someone else now, not after leader_timeout
        dispatch(app, resignation)
        await app[LANES].flush(timeout=timings.message_timeout)
    await app[LANES].close()


# --8<-- [end:election_loop]


# --8<-- [start:create_election_app]
def create_election_app(
    config: NodeConfig,
    new_elector: ElectorFactory,
    storage: Storage | None = None,
    rng: random.Random | None = None,
) -> web.Application:
    """The v2 node's app, plus the election (whichever ``new_elector`` builds) and its routes.

    ``storage`` keeps the core's term and vote across restarts (``--data-dir``), for the
    algorithms that need it; None keeps nothing.
    """
    app = create_node_app(config)
    app[ELECTOR] = new_elector(config.name, rng or random.Random(), time.monotonic(), storage)
    app[PEERS] = PeerView(
        config.name,
        grace=PEER_GRACE_INTERVALS * config.heartbeat_interval,
        outage=PEER_OUTAGE_INTERVALS * config.heartbeat_interval,  # we ask at least that often
    )
    app[SEEN] = Seen()
    app.router.add_post("/cluster/{kind}", receive_message)
    app.router.add_get("/cluster/status", get_status)
    app.cleanup_ctx.append(election)  # after membership's: it stops first, sessions stay open
    return app


# --8<-- [end:create_election_app]
