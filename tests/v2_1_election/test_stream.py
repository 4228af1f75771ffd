"""``GET /cluster/stream`` in-process: a peer's messages as frames, checked as POSTs are.

Each bad frame closes the stream with a close code and the reason, and changes nothing;
the stream needs what a POST needs (a registered node, the cluster token if there is one).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from stages.v1_kv.errors import ApiError
from stages.v2_1_election.algorithms import ALGORITHMS
from stages.v2_1_election.messages import Message
from stages.v2_1_election.node import (
    MAX_MESSAGE_BYTES,
    DriverFactory,
    ElectionDriver,
    create_election_app,
)
from stages.v2_1_election.routes import close_streams
from stages.v2_registry.auth import Secret
from stages.v2_registry.node import MEMBERSHIP, NodeConfig
from stages.v2_registry.server import RegistryConfig, create_registry_app
from workbench.harness import wait_until

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def registry(aiohttp_server) -> TestServer:
    return await aiohttp_server(create_registry_app(RegistryConfig(ttl=1.0)))


def bully_app(
    registry_url: str, token: str | None = None, driver: DriverFactory = ElectionDriver
) -> web.Application:
    secret = Secret(token) if token is not None else None
    config = NodeConfig("n1", registry_url, 9001, heartbeat_interval=0.2, cluster_token=secret)
    bully = ALGORITHMS["bully"]
    return create_election_app(config, bully.factory(bully.settings()), driver=driver)


async def joined(
    registry: TestServer,
    aiohttp_client,
    token: str | None = None,
    driver: DriverFactory = ElectionDriver,
) -> TestClient:
    """Node n1, with ``driver``, registered with ``registry``."""
    app = bully_app(str(registry.make_url("")).rstrip("/"), token, driver)
    client = await aiohttp_client(app)
    await wait_until(lambda: app[MEMBERSHIP].registered, timeout=5, what="n1 to register")
    return client


@pytest.fixture
async def lone(registry: TestServer, aiohttp_client) -> TestClient:
    return await joined(registry, aiohttp_client)


async def status(client: TestClient) -> dict:
    async with client.get("/cluster/status") as resp:
        return await resp.json()


async def reaches_term(client: TestClient, term: int, what: str) -> None:
    async def there() -> bool:
        return (await status(client))["term"] == term

    await wait_until(there, timeout=5, what=what)


async def test_messages_on_a_stream_reach_the_election_in_order(lone: TestClient) -> None:
    async with lone.ws_connect("/cluster/stream") as stream:
        for term in (3, 5, 7):
            await stream.send_json({"type": "heartbeat", "sender": "n9", "term": term})

        await reaches_term(lone, 7, "the third heartbeat")
    body = await status(lone)
    assert (body["role"], body["leader"]) == ("follower", "n9")


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("{bad", "not valid JSON"),
        ('{"type": "vote", "sender": "n2", "term": 1, "granted": true}', "'type' must be one of"),
        ('{"type": "heartbeat", "sender": "n2", "term": -1}', "'term' must be a whole number"),
        ('{"type": "heartbeat", "sender": "n 2", "term": 1}', "sender"),
        ('{"type": "victory", "sender": "n1", "term": 9}', "to itself"),
        ("[" * 30_000 + "]" * 30_000, "nested too deeply"),
    ],
    ids=["not-json", "other-algorithm", "negative-term", "bad-name", "from-itself", "deep"],
)
async def test_a_bad_frame_closes_the_stream_saying_why(
    lone: TestClient, frame: str, reason: str
) -> None:
    async with lone.ws_connect("/cluster/stream") as stream:
        await stream.send_str(frame)
        answer = await stream.receive(timeout=5)
    assert answer.type is WSMsgType.CLOSE
    assert answer.data == WSCloseCode.POLICY_VIOLATION
    assert reason in answer.extra
    assert (await status(lone))["term"] == 0, "nothing reached the election"


async def test_a_binary_frame_closes_the_stream(lone: TestClient) -> None:
    async with lone.ws_connect("/cluster/stream") as stream:
        await stream.send_bytes(b'{"type": "heartbeat", "sender": "n2", "term": 1}')
        answer = await stream.receive(timeout=5)
    assert (answer.type, answer.data) == (WSMsgType.CLOSE, WSCloseCode.UNSUPPORTED_DATA)
    assert "text frame" in answer.extra


async def test_a_frame_over_the_message_limit_closes_the_stream(lone: TestClient) -> None:
    big = json.dumps(
        {"type": "heartbeat", "sender": "n2", "term": 1, "pad": "x" * MAX_MESSAGE_BYTES}
    )
    async with lone.ws_connect("/cluster/stream") as stream:
        await stream.send_str(big)
        answer = await stream.receive(timeout=5)
    assert (answer.type, answer.data) == (WSMsgType.CLOSE, WSCloseCode.MESSAGE_TOO_BIG)
    assert (await status(lone))["term"] == 0


async def test_a_plain_get_is_told_the_stream_is_a_websocket(lone: TestClient) -> None:
    resp = await lone.get("/cluster/stream")
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "not_a_websocket"


async def test_a_node_not_registered_refuses_streams_with_503(
    aiohttp_client, unused_tcp_port: int
) -> None:
    node = await aiohttp_client(bully_app(f"http://127.0.0.1:{unused_tcp_port}"))
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await node.ws_connect("/cluster/stream")
    assert refused.value.status == 503


async def test_with_a_cluster_token_a_stream_needs_it(registry: TestServer, aiohttp_client) -> None:
    node = await joined(registry, aiohttp_client, token="s3cret")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await node.ws_connect("/cluster/stream")
    assert refused.value.status == 401
    headers = {"Authorization": "Bearer s3cret"}
    async with node.ws_connect("/cluster/stream", headers=headers) as stream:
        await stream.send_json({"type": "heartbeat", "sender": "n9", "term": 4})

        await reaches_term(node, 4, "the heartbeat, with the token")


def failing_at_13(error: Exception) -> type[ElectionDriver]:
    """A driver that raises ``error`` on a message at term 13: an ``ApiError`` is a refusal,
    as a stage's driver may refuse a message (v2.2's follower); anything else, a bug."""

    class FailingAt13(ElectionDriver):
        async def on_message(self, message: Message) -> None:
            if message.term == 13:
                raise error
            await super().on_message(message)

    return FailingAt13


async def test_a_message_the_driver_refuses_leaves_the_stream_open(
    registry: TestServer, aiohttp_client
) -> None:
    node = await joined(
        registry, aiohttp_client, driver=failing_at_13(ApiError(409, "unlucky", "not at 13"))
    )
    async with node.ws_connect("/cluster/stream") as stream:
        for term in (13, 14):
            await stream.send_json({"type": "heartbeat", "sender": "n9", "term": term})

        await reaches_term(node, 14, "the heartbeat after the refused one")
        assert not stream.closed


async def test_a_node_shutting_down_closes_its_streams_as_going_away(
    registry: TestServer, aiohttp_client
) -> None:
    node = await joined(registry, aiohttp_client)
    async with aiohttp.ClientSession() as session:
        stream = await session.ws_connect(node.make_url("/cluster/stream"))
        await node.close()  # an open stream would hold the shutdown up until its timeout
        answer = await stream.receive(timeout=5)
        assert (answer.type, answer.data) == (WSMsgType.CLOSE, WSCloseCode.GOING_AWAY)
        await stream.close()


@pytest.mark.parametrize("upgrade", ["websocket\xa0", "\xa0websocket", " WebSocket ", "h2c"])
async def test_with_a_cluster_token_no_spelling_of_upgrade_gets_a_stream_without_it(
    registry: TestServer, aiohttp_client, upgrade: str
) -> None:
    node = await joined(registry, aiohttp_client, token="s3cret")
    reader, writer = await asyncio.open_connection(node.host, node.port)
    writer.write(
        (
            "GET /cluster/stream HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
            f"Upgrade: {upgrade}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        ).encode()
    )
    status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    writer.close()
    assert status_line.split()[1] == b"401", status_line


async def test_a_driver_that_fails_on_a_message_ends_that_stream_not_the_node(
    registry: TestServer, aiohttp_client
) -> None:
    node = await joined(registry, aiohttp_client, driver=failing_at_13(RuntimeError("a bug")))
    async with node.ws_connect("/cluster/stream") as stream:
        await stream.send_json({"type": "heartbeat", "sender": "n9", "term": 13})
        answer = await stream.receive(timeout=5)
    assert (answer.type, answer.data) == (WSMsgType.CLOSE, WSCloseCode.INTERNAL_ERROR)
    async with node.ws_connect("/cluster/stream") as stream:  # the node still takes streams
        await stream.send_json({"type": "heartbeat", "sender": "n9", "term": 14})

        await reaches_term(node, 14, "the next stream's heartbeat")


async def test_a_stream_opened_once_shutdown_began_is_closed_at_once(lone: TestClient) -> None:
    app = lone.app
    assert app is not None
    await close_streams(app)  # what shutdown does first
    async with lone.ws_connect("/cluster/stream") as stream:
        answer = await stream.receive(timeout=5)
    assert (answer.type, answer.data) == (WSMsgType.CLOSE, WSCloseCode.GOING_AWAY)


async def test_a_peer_that_left_before_its_stream_opened_is_no_error(
    lone: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """As after ``kill -CONT``: the peer asked for a stream while we were paused, gave up,
    and its request is only read now, when the answer has nowhere to go."""
    sock = socket.create_connection((lone.host, lone.port))
    sock.sendall(
        b"GET /cluster/stream HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
        b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    sock.close()  # before the node's loop has run: it reads the request, then the close
    with caplog.at_level(logging.DEBUG, logger="stages.v2_1_election.routes"):
        await wait_until(
            lambda: "A peer left before its stream was open" in caplog.text,
            timeout=5,
            what="the node to find the peer gone",
        )
    async with lone.ws_connect("/cluster/stream") as stream:  # and it takes the next one
        await stream.send_json({"type": "heartbeat", "sender": "n9", "term": 3})
        await reaches_term(lone, 3, "a heartbeat on the next stream")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
