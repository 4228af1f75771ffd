"""The v2 node: the v1 key/value server, plus membership through the registry.

The node is given only the registry's address. On start-up it registers
itself, then renews its entry every ``heartbeat_interval`` seconds and keeps
the registry's list of nodes as its view of the cluster (``GET /cluster/peers``).
If the registry is down or restarts, the node keeps trying, backing off, and
registers again; on SIGINT/SIGTERM it deregisters before exiting.

All ``/kv`` routes are v1's own: the node *extends* v1's app, it does not copy it.
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
from aiohttp.typedefs import Middleware

from stages.v1_kv.backend import KVBackend
from stages.v1_kv.client import ClientError
from stages.v1_kv.server import DEFAULT_MAX_VALUE_BYTES, ServerConfig, create_app
from stages.v2_registry.auth import Secret, auth_headers, require_token, warn_if_open, writes
from stages.v2_registry.client import RegistryClient
from stages.v2_registry.membership import DEFAULT_HEARTBEAT_INTERVAL, Membership

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeConfig:
    name: str
    registry_url: str
    port: int  # the port the node really listens on (never 0 here)
    advertise_host: str | None = None  # None: the registry uses the address it sees
    heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL
    max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES
    cluster_token: Secret | None = field(default=None, repr=False)  # sent on every call
    kv_token: Secret | None = field(default=None, repr=False)  # None: /kv is open

    @property
    def registry_timeout(self) -> float:
        """No call to the registry may outlast a heartbeat interval (but allow 0.5 s)."""
        return max(self.heartbeat_interval, 0.5)


NODE_CONFIG = web.AppKey("node_config", NodeConfig)
MEMBERSHIP = web.AppKey("membership", Membership)
SESSION = web.AppKey("session", aiohttp.ClientSession)
REGISTRY = web.AppKey("registry_client", RegistryClient)


# --8<-- [start:get_peers]
async def get_peers(request: web.Request) -> web.Response:
    config, membership = request.app[NODE_CONFIG], request.app[MEMBERSHIP]
    updated = membership.updated_at
    return web.json_response(
        {
            "name": config.name,
            "registry": config.registry_url,
            "registered": membership.registered,
            "updated_seconds_ago": None
            if updated is None
            else round(time.monotonic() - updated, 3),
            "peers": [peer.to_json() for peer in membership.peers],
        }
    )


# --8<-- [end:get_peers]


# --8<-- [start:heartbeat_loop]
async def heartbeat_forever(app: web.Application) -> None:
    """Register, then renew every interval; back off while the registry is away."""
    config, membership, registry = app[NODE_CONFIG], app[MEMBERSHIP], app[REGISTRY]
    while True:
        try:
            reply = await registry.register(config.name, config.port, config.advertise_host)
            nodes = await registry.nodes()
        except (ClientError, ValueError, KeyError) as exc:  # down, refused, or nonsense
            delay = membership.beat_failed(str(exc) or type(exc).__name__)
        else:
            delay = membership.beat_succeeded(reply.created, nodes, time.monotonic())
        await asyncio.sleep(delay)


# --8<-- [end:heartbeat_loop]


async def client_session(app: web.Application) -> AsyncIterator[None]:
    """The process's one outgoing HTTP session, shared by every client.

    Its pool has no limit, so no call ever waits behind others for a connection
    (such waiting would eat into that call's timeout); each caller bounds its own
    concurrency instead (v2.1's node sends at most one message at a time per peer).
    """
    config = app[NODE_CONFIG]
    connector = aiohttp.TCPConnector(limit=0)
    headers = auth_headers(config.cluster_token)  # every call carries the token, if any
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        app[SESSION] = session
        app[REGISTRY] = RegistryClient(
            config.registry_url, timeout=config.registry_timeout, session=session
        )
        yield


# --8<-- [start:membership_ctx]
async def membership(app: web.Application) -> AsyncIterator[None]:
    """Heartbeats run while the app runs; on shutdown the node deregisters."""
    config = app[NODE_CONFIG]
    log.info("%s joining the cluster through the registry at %s", config.name, config.registry_url)
    task = asyncio.create_task(heartbeat_forever(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    if not app[MEMBERSHIP].registered:
        return  # never registered (registry down, or the name was taken): nothing to remove
    try:
        if await app[REGISTRY].deregister(config.name):
            log.info("%s deregistered from the registry", config.name)
    except ClientError as exc:
        log.warning("%s could not deregister (%s); its entry will expire", config.name, exc)


# --8<-- [end:membership_ctx]


# --8<-- [start:token_checks]
def token_checks(config: NodeConfig) -> list[Middleware]:
    """Writes other than /kv ones (the election's messages) need the cluster token;
    every /kv request needs the kv token, if there is one."""
    checks: list[Middleware] = []
    if config.cluster_token is not None:
        checks.append(require_token(config.cluster_token, cluster_write, "cluster"))
    if config.kv_token is not None:
        checks.append(require_token(config.kv_token, kv_request, "kv"))
    return checks


def cluster_write(request: web.Request) -> bool:
    """Every write that is not a /kv one: the election's messages, and whatever comes next."""
    return writes(request) and not kv_request(request)


def kv_request(request: web.Request) -> bool:
    """Every /kv request, reads too: a private store is private to read as well."""
    return request.path == "/kv" or request.path.startswith("/kv/")


# --8<-- [end:token_checks]


# --8<-- [start:create_node_app]
def create_node_app(config: NodeConfig, *, backend: KVBackend | None = None) -> web.Application:
    """v1's key/value app, plus membership and ``GET /cluster/peers``. ``backend``: where the
    key/value writes go (v1's default, ``LocalKV``, applies them to this node's own store)."""
    settings = ServerConfig(max_value_bytes=config.max_value_bytes)
    app = create_app(settings, token_checks(config), backend=backend)
    if config.cluster_token is None:
        app.on_startup.append(warn_if_open(f"Node {config.name}"))
    app[NODE_CONFIG] = config
    app[MEMBERSHIP] = Membership(config.name, config.heartbeat_interval, random.Random())
    app.router.add_get("/cluster/peers", get_peers)
    app.cleanup_ctx.append(client_session)
    app.cleanup_ctx.append(membership)
    return app


# --8<-- [end:create_node_app]
