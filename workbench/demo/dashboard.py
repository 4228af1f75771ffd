"""The demo's dashboard: a web page and a JSON API over the demo's own child processes.

It only moves data. A background task looks at the cluster every ``LOOK_EVERY`` seconds
(the registry's list, and whatever the stage's ``look`` asks each node), hands the look to
the stage's pure watch (:mod:`stages.v2_registry.watch`), and pushes the result to every
open page with server-sent events. The buttons call the JSON API, which asks the
:class:`~workbench.demo.supervisor.Supervisor` to act on a child *by name*.

Routes::

    GET  /                           the page (static files shipped in the package)
    GET  /api/cluster                {"stage": "v2.1", "nodes": [entry, ...],
                                      "registry": {"url", "pid", "process"}}
    POST /api/nodes                  start one more node; 201 with its entry
    POST /api/nodes/{name}/{action}  kill, pause, resume or restart; 200 with the new entry,
                                     404 for an unknown node, 409 when it does not apply
    GET  /api/nodes/{name}/kv/{key}  read a key on that node  (the page's key/value panel)
    PUT  /api/nodes/{name}/kv/{key}  store {"value": "..."} on that node
    GET  /api/events                 server-sent events: the whole state, then each change
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from stages.v1_kv.client import ClientError, KeyNotFound, KVClient, RequestFailed
from stages.v1_kv.errors import ApiError, json_errors
from stages.v1_kv.server import json_ends_with_newline
from stages.v2_registry.client import RegistryClient
from stages.v2_registry.server import read_json
from stages.v2_registry.watch import ClusterWatch, NodeSeen
from workbench.demo.guard import only_this_page
from workbench.demo.supervisor import Child, NotApplicable, Supervisor, UnknownChild

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
LOOK_EVERY = 0.25  # seconds between two looks at the cluster (the page is never staler)
ASK_TIMEOUT = 0.5  # no look waits longer than this for a process that does not answer
Look = Callable[[aiohttp.ClientSession, Child, float | None], Awaitable[NodeSeen]]


async def look_at_process(
    session: aiohttp.ClientSession, child: Child, age: float | None
) -> NodeSeen:
    """Stage v2's look at a node: its process, and its last heartbeat's age (``age``)."""
    return NodeSeen(child.name, child.url, child.pid, child.state(), age)


@dataclass(frozen=True)
class Stage:
    """What a stage shows: its name, its pure watch, and how it looks at one node."""

    name: str
    new_watch: Callable[[], ClusterWatch] = ClusterWatch
    look: Look = look_at_process
    routes: tuple[web.AbstractRouteDef, ...] = ()  # the stage's own API, beside the common one


SUPERVISOR = web.AppKey("supervisor", Supervisor)
STAGE = web.AppKey("stage", Stage)
WATCH = web.AppKey("watch", ClusterWatch)
PAGES = web.AppKey("pages", set)  # one queue per open event stream
ACTING = web.AppKey("acting", asyncio.Lock)  # one action on the children at a time
SESSION = web.AppKey("session", aiohttp.ClientSession)

# Every entry has every field, in this order; what a look could not learn is None.
BLANK = dict.fromkeys(["name", "url", "pid", "process", "role", "term", "leader", "voter"]) | {
    "registered": False,
    "last_heartbeat_age": None,
}


# --8<-- [start:entry]
def entry(app: web.Application, child: Child) -> dict[str, Any]:
    """A node as the API shows it: the latest look, with the process state as it is now."""
    seen = app[WATCH].nodes.get(child.name)
    said = seen.to_json() if seen is not None and seen.pid == child.pid else {}
    return {**BLANK, **said, "name": child.name, "url": child.url, "pid": child.pid,
            "process": child.state()}  # fmt: skip


def cluster(app: web.Application) -> dict[str, Any]:
    registry = app[SUPERVISOR].registry
    return {
        "stage": app[STAGE].name,
        "nodes": [entry(app, child) for child in app[SUPERVISOR].children.values()],
        "registry": {"url": registry.url, "pid": registry.pid, "process": registry.state()}
        if registry is not None
        else None,
    }


# --8<-- [end:entry]


def state(app: web.Application, since: int) -> dict[str, Any]:
    """What a page needs: the cluster, the events after the first ``since``, the timeline."""
    watch = app[WATCH]
    return {
        **cluster(app),
        "now": time.time(),
        "events": [event.to_json() for event in watch.since(since)],
        "timeline": watch.timeline_json(),
    }


def publish(app: web.Application, stop: bool = False) -> None:
    """Wake every event stream: to send what it has not sent yet, or (``stop``) to end."""
    for queue in app[PAGES]:
        queue.put_nowait(stop)


# --8<-- [start:look]
async def look(app: web.Application) -> None:
    """One look at every child, handed to the watch, pushed to every page."""
    supervisor, session = app[SUPERVISOR], app[SESSION]
    ages: dict[str, float] = {}
    if supervisor.registry is not None:
        registry = RegistryClient(supervisor.registry.url, timeout=ASK_TIMEOUT, session=session)
        with contextlib.suppress(ClientError):  # the registry is away: nobody is listed
            ages = {node.name: node.last_seen_seconds_ago for node in await registry.nodes()}
    children = list(supervisor.children.values())
    seen = await asyncio.gather(
        *(app[STAGE].look(session, child, ages.get(child.name)) for child in children)
    )
    app[WATCH].observe(time.time(), list(seen))
    publish(app)


async def keep_looking(app: web.Application) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            started = time.monotonic()
            try:
                await look(app)
            except Exception:  # a bug must not freeze the page: say it, and look again
                log.exception("The dashboard's look at the cluster failed")
            await asyncio.sleep(max(0.0, LOOK_EVERY - (time.monotonic() - started)))

    app[SESSION] = aiohttp.ClientSession()
    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await app[SESSION].close()


# --8<-- [end:look]


async def events(request: web.Request) -> web.StreamResponse:
    """``GET /api/events``: the whole state at once, then what changed after each look."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    queue: asyncio.Queue[bool] = asyncio.Queue()
    request.app[PAGES].add(queue)
    sent, stop = 0, False
    try:
        await response.prepare(request)
        await response.write(b"retry: 1000\n\n")  # reconnect after a second (a restarted demo)
        while not stop:
            data = state(request.app, sent)
            sent = request.app[WATCH].count
            await response.write(f"data: {json.dumps(data)}\n\n".encode())
            stop = await queue.get()
            while not queue.empty():
                stop = stop or queue.get_nowait()
    except ConnectionResetError:
        pass  # the page went away (even before the answer began)
    finally:
        request.app[PAGES].discard(queue)
    return response


async def get_cluster(request: web.Request) -> web.Response:
    return web.json_response(cluster(request.app))


def node(request: web.Request) -> Child:
    name = request.match_info["name"]
    try:
        return request.app[SUPERVISOR].child(name)
    except UnknownChild:
        known = ", ".join(request.app[SUPERVISOR].children) or "none"
        message = f"this demo has no node {name!r}; its nodes: {known}"
        raise ApiError(404, "unknown_node", message) from None


# --8<-- [start:act]
ACTIONS = ("kill", "pause", "resume", "restart")


async def act(request: web.Request) -> web.Response:
    """``POST /api/nodes/{name}/{action}``: signal one of *our* children, found by name."""
    app, action = request.app, request.match_info["action"]
    if action not in ACTIONS:
        raise ApiError(404, "unknown_action", f"{action!r} is not one of {', '.join(ACTIONS)}")
    name = node(request).name
    do = getattr(app[SUPERVISOR], action)
    async with app[ACTING]:
        app[WATCH].expect(name, action)  # a look may see the effect before we are done
        try:
            child = await asyncio.to_thread(do, name)  # restart waits for the old process
        except NotApplicable as exc:
            app[WATCH].expect(name, None)
            raise ApiError(409, "not_applicable", str(exc)) from None
        app[WATCH].act(time.time(), name, action, child.pid)
    publish(app)
    return web.json_response(entry(app, child))


async def add_node(request: web.Request) -> web.Response:
    app = request.app
    async with app[ACTING]:
        child = app[SUPERVISOR].add_node()  # starting a process does not wait for it
        app[WATCH].act(time.time(), child.name, "add", child.pid)
    publish(app)
    return web.json_response(entry(app, child), status=201)


# --8<-- [end:act]


def text_value(body: object) -> str:
    """The value of a panel's PUT, ``{"value": "some text"}``, as text that UTF-8 can encode."""
    value = body.get("value") if isinstance(body, dict) else None
    if not isinstance(value, str):
        raise ApiError(400, "invalid_body", 'send {"value": "some text"}')
    try:
        value.encode()
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800"
        raise ApiError(400, "invalid_body", "the value is not text that UTF-8 can encode") from None
    return value


async def kv(request: web.Request) -> web.Response:
    """The key/value panel: read or write a key on the node the page chose."""
    child, key = node(request), request.match_info["key"]
    client = KVClient(child.url, timeout=2.0, session=request.app[SESSION])
    try:
        if request.method == "PUT":
            value = text_value(await read_json(request))
            await client.put(key, value.encode())
        else:
            value = (await client.get(key)).decode("utf-8", "replace")
    except KeyNotFound:
        raise ApiError(404, "key_not_found", f"{child.name} has no key {key!r}") from None
    except RequestFailed as exc:
        raise ApiError(exc.status, exc.code, f"{child.name}: {exc.message}") from None
    except ClientError as exc:
        raise ApiError(502, "node_unavailable", f"{child.name} did not answer: {exc}") from None
    return web.json_response({"node": child.name, "key": key, "value": value})


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "dashboard.html")


async def close_streams(app: web.Application) -> None:
    publish(app, stop=True)  # the pages reconnect, to the next demo when there is one


# --8<-- [start:create_dashboard_app]
def create_dashboard_app(supervisor: Supervisor, stage: Stage) -> web.Application:
    app = web.Application(middlewares=[json_ends_with_newline, json_errors, only_this_page])
    app[SUPERVISOR], app[STAGE], app[WATCH] = supervisor, stage, stage.new_watch()
    app[PAGES], app[ACTING] = set(), asyncio.Lock()
    app.router.add_get("/", page)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/api/cluster", get_cluster)
    app.router.add_post("/api/nodes", add_node)
    app.router.add_post("/api/nodes/{name}/{action}", act)
    app.router.add_route("GET", "/api/nodes/{name}/kv/{key:.+}", kv)
    app.router.add_route("PUT", "/api/nodes/{name}/kv/{key:.+}", kv)
    app.router.add_get("/api/events", events)
    app.router.add_routes(stage.routes)
    app.cleanup_ctx.append(keep_looking)
    app.on_shutdown.append(close_streams)
    return app


# --8<-- [end:create_dashboard_app]
