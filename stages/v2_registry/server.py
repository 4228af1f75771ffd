"""The registry as an HTTP service.

Routes::

    POST   /nodes          register or renew (the heartbeat): 201 new, 200 renewed
    GET    /nodes          {"nodes": [...], "index": I} sorted by name; with ?index=N&wait=S
                           held until the index moves on from N, or S seconds (blocking.py)
    GET    /nodes/{name}   one entry, or 404
    DELETE /nodes/{name}   204, or 404
    (with a cluster token, POST and DELETE need ``Authorization: Bearer TOKEN``, else 401)
    GET    /health         {"status": "ok", "service": "registry", "nodes": N, "ttl": T,
                            "max_nodes": M, "pid": P}

A background sweep calls :meth:`Registry.expire` every ``ttl / 5`` seconds, so a
silent node is forgotten at most ``ttl * 1.2`` seconds after its last heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Middleware

from stages.v1_kv.errors import ApiError, json_errors
from stages.v1_kv.server import json_ends_with_newline
from stages.v2_registry.auth import Secret, require_token, warn_if_open, writes
from stages.v2_registry.blocking import Changes, blocking_query, first_index
from stages.v2_registry.models import (
    InvalidMessage,
    NodeInfo,
    Registration,
    check_name,
    parse_json,
)
from stages.v2_registry.registry import (
    DEFAULT_MAX_NODES,
    DEFAULT_TTL,
    Entry,
    NameTaken,
    Registry,
    RegistryFull,
)

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(frozen=True)
class RegistryConfig:
    ttl: float = DEFAULT_TTL
    max_nodes: int = DEFAULT_MAX_NODES
    token: Secret | None = field(default=None, repr=False)  # None: anyone may write

    @property
    def sweep_interval(self) -> float:
        return self.ttl / 5


@dataclass
class Refusals:
    """New names refused because the registry was full, for a warning now and then."""

    count: int = 0
    warned_at: float | None = None

    def note(self, now: float, every: float = 10.0) -> int | None:
        """Count one refusal; return the count to warn about, at most once per ``every``."""
        self.count += 1
        if self.warned_at is not None and now - self.warned_at < every:
            return None
        count, self.count, self.warned_at = self.count, 0, now
        return count


REGISTRY = web.AppKey("registry", Registry)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
REFUSALS = web.AppKey("refusals", Refusals)
CHANGES = web.AppKey("changes", Changes)


def entry_json(entry: Entry, now: float, ttl: float | None = None) -> dict[str, object]:
    info = NodeInfo(entry.name, entry.host, entry.port, entry.age(now)).to_json()
    if ttl is not None:
        info["registered_seconds_ago"] = round(now - entry.first_seen, 3)
        info["ttl"] = ttl
    return info


async def read_json(request: web.Request) -> object:
    """The request body as JSON, or a 400 that says what is wrong with it."""
    try:
        return parse_json(await request.read(), "the body")
    except InvalidMessage as exc:
        raise ApiError(400, "invalid_json", str(exc)) from None


# --8<-- [start:register]
async def register(request: web.Request) -> web.Response:
    try:
        reg = Registration.from_json(await read_json(request))
    except InvalidMessage as exc:
        raise ApiError(400, "invalid_registration", str(exc)) from None
    host = reg.host or request.remote or "127.0.0.1"  # no host given: where it came from
    registry, now = request.app[REGISTRY], request.app[CLOCK]()
    try:
        entry, created = registry.register(reg.name, host, reg.port, now)
    except NameTaken as exc:
        raise ApiError(
            409, "name_taken", f"{exc}; it is free once that node deregisters or its entry expires"
        ) from None
    except RegistryFull as exc:
        refused = request.app[REFUSALS].note(now)
        if refused is not None:
            log.warning(
                "Registry full (--max-nodes %d): refused %d new name(s)", exc.max_nodes, refused
            )
        raise ApiError(
            409,
            "registry_full",
            f"{exc} (--max-nodes); a new node can join once another deregisters or expires",
        ) from None
    if created:
        log.info("Registered node %s at %s:%d", entry.name, entry.host, entry.port)
    else:
        log.debug("Heartbeat from %s", entry.name)
    return web.json_response(entry_json(entry, now, registry.ttl), status=201 if created else 200)


# --8<-- [end:register]


# --8<-- [start:list_nodes]
async def list_nodes(request: web.Request) -> web.Response:
    """The live nodes and the list's index; a blocking query waits for the index to move."""
    registry = request.app[REGISTRY]
    index, wait = blocking_query(request)
    if index == registry.index:  # the asker has this list already: answer once it changes
        await request.app[CHANGES].wait(wait)
    now = request.app[CLOCK]()
    nodes = [entry_json(e, now) for e in registry.entries(now)]
    return web.json_response({"nodes": nodes, "index": registry.index})


# --8<-- [end:list_nodes]


async def answer_the_waiting(app: web.Application) -> None:
    app[CHANGES].notify()


def _name(request: web.Request) -> str:
    try:
        return check_name(request.match_info["name"])
    except InvalidMessage as exc:
        raise ApiError(400, "invalid_name", str(exc)) from None


def _unknown(name: str) -> ApiError:
    return ApiError(404, "node_not_found", f"no live node is registered as {name!r}")


async def get_node(request: web.Request) -> web.Response:
    name, registry, now = _name(request), request.app[REGISTRY], request.app[CLOCK]()
    entry = registry.get(name, now)
    if entry is None:
        raise _unknown(name)
    return web.json_response(entry_json(entry, now, registry.ttl))


async def deregister(request: web.Request) -> web.Response:
    name = _name(request)
    if request.app[REGISTRY].deregister(name) is None:
        raise _unknown(name)
    log.info("Deregistered node %s", name)
    return web.Response(status=204)


async def health(request: web.Request) -> web.Response:
    registry, now = request.app[REGISTRY], request.app[CLOCK]()
    return web.json_response(
        {
            "status": "ok",
            "service": "registry",  # `ddb kv` pointed here can say so
            "nodes": len(registry.entries(now)),
            "ttl": registry.ttl,
            "max_nodes": registry.max_nodes,
            "pid": os.getpid(),
        }
    )


# --8<-- [start:sweep]
async def sweep_expired(app: web.Application, interval: float) -> None:
    """Forever: forget every node that has been silent for a whole TTL."""
    registry, clock = app[REGISTRY], app[CLOCK]
    while True:
        await asyncio.sleep(interval)
        now = clock()
        for entry in registry.expire(now):
            log.info("Node %s expired after %.1fs without a heartbeat", entry.name, entry.age(now))


def sweeper(interval: float) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context: the sweep runs exactly while the app does."""

    async def run_sweeper(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(sweep_expired(app, interval))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return run_sweeper


# --8<-- [end:sweep]


# --8<-- [start:create_registry_app]
def create_registry_app(
    config: RegistryConfig | None = None, clock: Clock = time.monotonic
) -> web.Application:
    """Build the registry application; ``clock`` is injectable for tests."""
    config = config or RegistryConfig()
    middlewares: list[Middleware] = [json_ends_with_newline, json_errors]
    if config.token is not None:  # POST and DELETE need it; GET stays open
        middlewares.append(require_token(config.token, writes, "cluster"))
    app = web.Application(middlewares=middlewares)
    if config.token is None:
        app.on_startup.append(warn_if_open("The registry"))
    app[CHANGES] = Changes()  # the registry wakes blocking queries when its index moves
    app[REGISTRY] = Registry(config.ttl, config.max_nodes, first_index(), app[CHANGES].notify)
    app.on_shutdown.append(answer_the_waiting)  # or a held query would hold the shutdown up
    app[CLOCK] = clock
    app[REFUSALS] = Refusals()
    app.router.add_post("/nodes", register)
    app.router.add_get("/nodes", list_nodes)
    app.router.add_get("/nodes/{name}", get_node)
    app.router.add_delete("/nodes/{name}", deregister)
    app.router.add_get("/health", health)
    app.cleanup_ctx.append(sweeper(config.sweep_interval))
    return app


# --8<-- [end:create_registry_app]
