"""What a v2.1 node answers on ``/cluster/*``: its election's messages, and its view.

``POST /cluster/{type}`` takes one message of the types the node's driver accepts (its
algorithm's, and any a later stage adds), validated, and at most the driver's
``max_message_bytes`` long (``413`` beyond, with a JSON error body like every other);
``GET /cluster/status`` reports the core's view. Both reach the node's
:class:`~stages.v2_1_election.node.ElectionDriver` under :data:`DRIVER`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from stages.v1_kv.errors import ApiError
from stages.v2_1_election.client import ClusterStatus
from stages.v2_1_election.messages import message_from_json
from stages.v2_registry.models import InvalidMessage
from stages.v2_registry.node import MEMBERSHIP
from stages.v2_registry.server import read_json

if TYPE_CHECKING:  # the driver's module builds the app from these routes
    from stages.v2_1_election.node import ElectionDriver

DRIVER: web.AppKey[ElectionDriver] = web.AppKey("driver")  # the app's one election driver


# --8<-- [start:receive_message]
async def receive_message(request: web.Request) -> web.Response:
    """``POST /cluster/{type}``: one message for the node's driver, and so for its core."""
    if not request.app[MEMBERSHIP].registered:
        raise ApiError(
            503,
            "not_registered",
            "this node has not joined the cluster yet "
            "(its registration with the registry has not succeeded)",
        )
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
        message = message_from_json(body, types.values())
        if message.kind != kind:
            raise InvalidMessage(f"expected a {kind}, got a {message.kind}")
    except InvalidMessage as exc:
        raise ApiError(400, "invalid_message", str(exc)) from None
    if message.sender == driver.elector.name:
        raise ApiError(
            400,
            "invalid_message",
            f"a {kind} from {message.sender!r} to itself: nodes never "
            "send themselves messages, so this one is not what it claims to be",
        )
    await driver.on_message(message)
    return web.json_response({"accepted": message.kind}, status=202)


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
