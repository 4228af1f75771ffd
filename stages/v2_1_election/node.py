"""The v2.1 node: the v2 node (key/value, registration, peers) plus a Bully election.

The election itself is :class:`~stages.v2_1_election.bully.BullyElector`, a pure
state machine. This module only moves its messages and fires its timers:

* a loop calls ``tick(now)`` every few milliseconds and hands it the registry's
  latest peer list with ``set_peers``;
* ``POST /cluster/{type}`` hands an incoming message to ``receive``;
* whatever those verbs return is sent concurrently, each message its own task,
  through the node's one client session with a short timeout, so a slow or dead
  peer never stalls the loop or the HTTP server.

Routes added to the v2 node::

    POST /cluster/heartbeat | election | answer | victory | join | newer_term
    GET  /cluster/status    {"name", "role", "term", "leader", "leader_url", "peers", "algorithm"}
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from stages.v1_kv.client import ClientError
from stages.v1_kv.errors import ApiError
from stages.v2_1_election.bully import BullyElector, ElectionConfig, Send
from stages.v2_1_election.client import ClusterStatus
from stages.v2_1_election.messages import MESSAGE_TYPES
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
class Outbox:
    """Messages in flight, so shutdown can wait for (or cancel) them."""

    tasks: set[asyncio.Task[None]] = field(default_factory=set)


ELECTOR = web.AppKey("elector", BullyElector)
OUTBOX = web.AppKey("outbox", Outbox)


def peer_url(app: web.Application, name: str) -> str | None:
    for peer in app[MEMBERSHIP].peers:
        if peer.name == name:
            return peer.url
    return None


# --8<-- [start:send]
def dispatch(app: web.Application, sends: list[Send]) -> None:
    """Send each message in its own task: nobody waits for a slow peer."""
    outbox = app[OUTBOX]
    for send in sends:
        task = asyncio.create_task(deliver(app, send))
        outbox.tasks.add(task)
        task.add_done_callback(outbox.tasks.discard)


async def deliver(app: web.Application, send: Send) -> None:
    url = peer_url(app, send.to)
    if url is None:  # a node we have not seen in the registry yet: look again, once
        await refresh_peers(app)
        url = peer_url(app, send.to)
        if url is None:
            log.debug("Dropped %s to %s: not in the registry", send.message.kind, send.to)
            return
    timeout = aiohttp.ClientTimeout(total=app[ELECTOR].config.answer_timeout)
    try:
        async with app[SESSION].post(
            f"{url}/cluster/{send.message.kind}", json=send.message.to_json(), timeout=timeout
        ) as resp:
            await resp.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.debug("Could not send %s to %s: %s", send.message.kind, send.to, exc or "timeout")


# --8<-- [end:send]


async def refresh_peers(app: web.Application) -> None:
    """Fetch the registry's node list now, between two regular heartbeats."""
    try:
        nodes = await app[REGISTRY].nodes()
    except ClientError as exc:
        log.debug("Could not refresh peers: %s", exc)
        return
    app[MEMBERSHIP].update_peers(nodes, time.monotonic())


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
    kind = request.match_info["kind"]
    if kind not in MESSAGE_TYPES:
        raise ApiError(
            404, "unknown_message", f"no message type {kind!r}; known: {', '.join(MESSAGE_TYPES)}"
        )
    try:
        message = MESSAGE_TYPES[kind].from_json(await read_json(request))
    except InvalidMessage as exc:
        raise ApiError(400, "invalid_message", str(exc)) from None
    dispatch(request.app, request.app[ELECTOR].receive(message, time.monotonic()))
    return web.json_response({"accepted": message.kind}, status=202)


# --8<-- [end:receive_message]


async def get_status(request: web.Request) -> web.Response:
    elector = request.app[ELECTOR]
    leader_url = None
    if elector.leader == elector.name:  # ourselves: the address this request reached
        leader_url = str(request.url.origin())
    elif elector.leader is not None:
        leader_url = peer_url(request.app, elector.leader)
    status = ClusterStatus(
        name=elector.name,
        role=elector.role.value,
        term=elector.term,
        leader=elector.leader,
        leader_url=leader_url,
        peers=tuple(sorted(elector.peers)),
        algorithm=elector.algorithm,
    )
    return web.json_response(status.to_json())


# --8<-- [start:election_loop]
async def run_election(app: web.Application, tick_every: float) -> None:
    """Forever: pass on membership changes, let time pass, send what the core says."""
    elector, membership = app[ELECTOR], app[MEMBERSHIP]
    stall = 2 * elector.config.heartbeat_interval  # a gap this long means we were not running
    registry_view: set[str] = set()
    joined = False
    last = time.monotonic()
    while True:
        now = time.monotonic()
        if now - last > stall:  # stopped (kill -STOP), or starved of CPU
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
            peers = {peer.name for peer in membership.peers}
            if peers != registry_view:  # only a change of the registry's view replaces
                registry_view = peers  # the peers the core knows (it also learns from Joins)
                dispatch(app, elector.set_peers(peers, now))
            dispatch(app, elector.tick(now))
        await asyncio.sleep(tick_every)


async def watch_peers(app: web.Application, every: float) -> None:
    """Refresh the peer list more often than the registry heartbeat (every second) does.

    An election must know who is out there before its first timeout, so a node
    looks at the registry twice per ``leader_timeout``.
    """
    while True:
        await refresh_peers(app)
        await asyncio.sleep(every)


async def election(app: web.Application) -> AsyncIterator[None]:
    """The election runs exactly while the app does; messages in flight end with it."""
    config = app[ELECTOR].config
    tasks = [
        asyncio.create_task(run_election(app, config.heartbeat_interval / 10)),
        asyncio.create_task(watch_peers(app, config.leader_timeout / 2)),
    ]
    yield
    for pending in [*tasks, *app[OUTBOX].tasks]:
        pending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pending


# --8<-- [end:election_loop]


# --8<-- [start:create_election_app]
def create_election_app(
    config: NodeConfig, election_config: ElectionConfig, rng: random.Random | None = None
) -> web.Application:
    """The v2 node's app, plus the election and its routes."""
    app = create_node_app(config)
    app[ELECTOR] = BullyElector(
        config.name, election_config, rng or random.Random(), time.monotonic()
    )
    app[OUTBOX] = Outbox()
    app.router.add_post("/cluster/{kind}", receive_message)
    app.router.add_get("/cluster/status", get_status)
    app.cleanup_ctx.append(election)  # after membership's: it stops first, sessions stay open
    return app


# --8<-- [end:create_election_app]
