"""What a v2.1 node answers on ``/cluster/*``: its election's messages, and its view.

``GET /cluster/stream`` is a WebSocket that carries one peer's messages, a JSON text frame
each, in order: what the node's peers send on (:mod:`~stages.v2_1_election.transport`).
``POST /cluster/{type}`` takes one message as one request, which is handy with ``curl``.
Either way a message is of the types the node's driver accepts (its algorithm's, and any a
later stage adds), validated the same way, and at most the driver's ``max_message_bytes``
long (``413`` beyond, with a JSON error body like every other; on a stream, close code
``1009``); ``GET /cluster/status`` reports the core's view. All reach the node's
:class:`~stages.v2_1_election.node.ElectionDriver` under :data:`DRIVER`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web

from stages.v1_kv.errors import ApiError
from stages.v2_1_election.client import ClusterStatus
from stages.v2_1_election.messages import Message, message_from_json
from stages.v2_registry.models import InvalidMessage, parse_json
from stages.v2_registry.node import MEMBERSHIP
from stages.v2_registry.server import read_json

if TYPE_CHECKING:  # the driver's module builds the app from these routes
    from stages.v2_1_election.node import ElectionDriver

log = logging.getLogger(__name__)

DRIVER: web.AppKey[ElectionDriver] = web.AppKey("driver")  # the app's one election driver


class OpenStreams(set[web.WebSocketResponse]):
    """The peers' streams open now; once shutdown has begun (``closed``), none stays open."""

    closed = False


STREAMS = web.AppKey("streams", OpenStreams)


def add_cluster_routes(app: web.Application) -> None:
    """The routes above on ``app``, whose :data:`DRIVER` is set, and the close of every
    stream at shutdown (an open WebSocket would otherwise hold the shutdown up)."""
    app[STREAMS] = OpenStreams()
    app.router.add_get("/cluster/stream", receive_stream)
    app.router.add_post("/cluster/{kind}", receive_message)
    app.router.add_get("/cluster/status", get_status)
    app.on_shutdown.append(close_streams)


# --8<-- [start:receive_message]
async def receive_message(request: web.Request) -> web.Response:
    """``POST /cluster/{type}``: one message for the node's driver, and so for its core."""
    require_registered(request)
    driver, kind = request.app[DRIVER], request.match_info["kind"]
    types = {cls.kind: cls for cls in driver.messages}  # what this algorithm's nodes send
    if kind not in types:
        known = ", ".join(types)
        raise ApiError(
            404,
            "unknown_message",
            f"{driver.elector.algorithm} has no message {kind!r}; known: {known}",
        )
    body = await read_message(request, driver.max_message_bytes)
    try:
        message = checked_message(driver, body)
        if message.kind != kind:
            raise InvalidMessage(f"expected a {kind}, got a {message.kind}")
    except InvalidMessage as exc:
        raise ApiError(400, "invalid_message", str(exc)) from None
    await driver.on_message(message)
    return web.json_response({"accepted": message.kind}, status=202)


def require_registered(request: web.Request) -> None:
    if not request.app[MEMBERSHIP].registered:
        raise ApiError(
            503,
            "not_registered",
            "this node has not joined the cluster yet "
            "(its registration with the registry has not succeeded)",
        )


def checked_message(driver: ElectionDriver, body: object) -> Message:
    """One of the driver's messages, from a peer (never from this node itself), or
    :class:`InvalidMessage` saying what is wrong with it."""
    message = message_from_json(body, driver.messages)
    if message.sender == driver.elector.name:
        raise InvalidMessage(
            f"a {message.kind} from {message.sender!r} to itself: nodes never "
            "send themselves messages, so this one is not what it claims to be"
        )
    return message


async def read_message(request: web.Request, limit: int) -> object:
    """The body as JSON, refused with a ``413`` past ``limit`` bytes, before it is read in
    full (whatever the app's own ``client_max_size``: a later stage may allow more)."""
    too_large = ApiError(
        413, "payload_too_large", f"a cluster message is at most {limit} bytes; this one is more"
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    try:
        return await read_json(request.clone(client_max_size=limit))
    except web.HTTPRequestEntityTooLarge:  # no Content-Length, and the body went past it
        raise too_large from None


# --8<-- [end:receive_message]


# --8<-- [start:receive_stream]
async def receive_stream(request: web.Request) -> web.StreamResponse:
    """``GET /cluster/stream``: a peer's messages, one JSON text frame each, handed to the
    driver in order as ``POST /cluster/{type}`` hands one. The first frame that one would
    refuse closes the stream, with the reason; so does this node leaving the registry."""
    require_registered(request)
    driver = request.app[DRIVER]
    timings = driver.elector.timings
    stream = web.WebSocketResponse(
        heartbeat=timings.leader_timeout,  # a peer that went quiet is cut
        timeout=timings.message_timeout,  # how long our close waits for the peer's
        max_msg_size=driver.max_message_bytes,  # beyond: closed with 1009, by aiohttp
    )
    if not stream.can_prepare(request).ok:
        raise ApiError(400, "not_a_websocket", "GET /cluster/stream opens a WebSocket")
    try:
        await stream.prepare(request)
    except ConnectionError:  # the peer gave up before we answered (we were paused, say)
        log.debug("A peer left before its stream was open")
        return web.Response()  # for aiohttp to drop quietly: there is nobody left to read it
    streams = request.app[STREAMS]
    if streams.closed:  # opened while the node began to shut down
        await closing(stream, WSCloseCode.GOING_AWAY, "the node is shutting down")
        return stream
    streams.add(stream)
    try:
        await read_stream(request, stream)
    finally:
        streams.discard(stream)
    return stream


async def read_stream(request: web.Request, stream: web.WebSocketResponse) -> None:
    async for frame in stream:  # ends at the peer's close, or an error (a frame too large)
        refused = await take_frame(request, frame)
        if refused is not None:
            await closing(stream, *refused)


async def take_frame(request: web.Request, frame: WSMessage) -> tuple[int, str] | None:
    """Hand one frame's message to the driver. None if the stream goes on; otherwise the
    close code and reason that end it. A driver's ``ApiError`` (v2.2's follower refusing a
    write from a node it does not follow) leaves the stream open: on a POST the sender would
    hear the refusal, on a stream the driver's own log says it."""
    if frame.type is not WSMsgType.TEXT:
        return WSCloseCode.UNSUPPORTED_DATA, "each message is a text frame"
    if not request.app[MEMBERSHIP].registered:
        return WSCloseCode.TRY_AGAIN_LATER, "this node is not registered"
    driver = request.app[DRIVER]
    try:
        message = checked_message(driver, parse_json(frame.data, "the frame"))
    except InvalidMessage as exc:
        return WSCloseCode.POLICY_VIOLATION, str(exc)
    try:
        await driver.on_message(message)
    except ApiError as exc:
        log.debug("Refused a %s from %s on its stream: %s", message.kind, message.sender, exc)
    except Exception:  # a bug: say so, and end this stream (not the node)
        log.exception("Could not handle a %s from %s", message.kind, message.sender)
        return WSCloseCode.INTERNAL_ERROR, "the node failed on it"
    return None


async def close_streams(app: web.Application) -> None:
    """At shutdown: every peer's stream is closed, as "going away", and so is any opened later."""
    open_now = app[STREAMS]
    open_now.closed = True
    streams = list(open_now)  # each close takes itself out of the set
    await asyncio.gather(
        *(
            closing(stream, WSCloseCode.GOING_AWAY, "the node is shutting down")
            for stream in streams
        )
    )


async def closing(stream: web.WebSocketResponse, code: int, reason: str) -> None:
    """Close a stream, saying why in the 123 bytes a close frame has room for."""
    await stream.close(code=code, message=reason.encode()[:123].decode(errors="ignore").encode())


# --8<-- [end:receive_stream]


async def get_status(request: web.Request) -> web.Response:
    driver = request.app[DRIVER]
    elector = driver.elector
    leader_url = None
    if elector.leader == elector.name:  # ourselves: the address this request reached
        leader_url = str(request.url.origin())
    elif elector.leader is not None:
        leader_url = driver.peers.url(elector.leader)
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
