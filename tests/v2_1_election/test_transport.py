"""PeerLanes: one stream per peer, and no peer, dead, slow or made-up, costs more than
its own lane.

In-process: real aiohttp servers on loopback stand in for peers, and a
``PeerLanes`` sends to them through a real session.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web
from aiohttp.client_exceptions import ClientConnectionResetError

from stages.v2_1_election.bully import Send
from stages.v2_1_election.messages import Heartbeat
from stages.v2_1_election.transport import MAX_WAITING_FOR_REFRESH, QUEUE_PER_PEER, PeerLanes
from workbench.harness import wait_until

pytestmark = pytest.mark.timeout(30)


class Peer:
    """A fake peer: it takes streams and keeps the terms of the messages on them, in order.
    It can be told to hang before answering the handshake, to hang once the stream is open
    (reading nothing, answering no ping: a paused process), or to refuse streams."""

    def __init__(
        self,
        hang: asyncio.Event | None = None,
        hang_open: asyncio.Event | None = None,
        refuse: int | None = None,
    ) -> None:
        self.received: list[int] = []
        self.streams: list[web.WebSocketResponse] = []  # every stream opened to it
        self.in_flight = 0  # handshakes it has not answered yet
        self.most_in_flight = 0
        self.hang, self.hang_open, self.refuse = hang, hang_open, refuse

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.hang is not None:
                await self.hang.wait()
        finally:
            self.in_flight -= 1
        if self.refuse is not None:
            return web.json_response({"error": "not yet"}, status=self.refuse)
        stream = web.WebSocketResponse()
        await stream.prepare(request)
        self.streams.append(stream)
        if self.hang_open is not None:
            await self.hang_open.wait()
        async for frame in stream:
            self.received.append(json.loads(frame.data)["term"])
        return stream

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cluster/stream", self.handle)
        return app


async def serve(aiohttp_server, peer: Peer) -> str:
    return str((await aiohttp_server(peer.app())).make_url("")).rstrip("/")


class Hangup:
    """A port that accepts each connection and closes it at once, counting them."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            writer.close()

        self.server = await asyncio.start_server(accept, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def beat(to: str, term: int = 1) -> Send:
    return Send(to, Heartbeat("n1", term))


@pytest.fixture
async def session():
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        yield session


def lanes_for(
    session, urls: dict[str, str], refreshes: list[int] | None = None, keepalive: float = 5.0
) -> PeerLanes:
    async def refresh() -> None:
        if refreshes is not None:
            refreshes.append(1)

    return PeerLanes(session, urls.get, refresh, timeout=0.2, min_backoff=0.1, keepalive=keepalive)


async def test_messages_to_a_peer_travel_in_order_on_one_stream(aiohttp_server, session) -> None:
    peer = Peer()
    lanes = lanes_for(session, {"n2": await serve(aiohttp_server, peer)})
    for term in range(1, 51):
        lanes.send([beat("n2", term)])
        await asyncio.sleep(0.002)  # a burst, but never four behind the one in flight
    await wait_until(lambda: len(peer.received) == 50, timeout=5, what="50 messages")
    assert peer.received == list(range(1, 51)), "in the order they were sent"
    assert len(peer.streams) == 1, "one stream for all of them"
    await lanes.close()
    await wait_until(lambda: peer.streams[0].closed, timeout=2, what="the stream's close")


async def test_a_stream_the_peer_closes_is_opened_again_at_the_next_message(
    aiohttp_server, session
) -> None:
    peer = Peer()  # a peer that restarts closes our stream
    lanes = lanes_for(session, {"n2": await serve(aiohttp_server, peer)})
    lanes.send([beat("n2", 1)])
    await wait_until(lambda: peer.received == [1], timeout=5, what="the first message")
    await peer.streams[0].close()
    await wait_until(lambda: "n2" not in lanes.streams, timeout=5, what="the close, noticed")
    lanes.send([beat("n2", 2)])
    await wait_until(lambda: peer.received == [1, 2], timeout=5, what="the second message")
    assert len(peer.streams) == 2
    await lanes.close()


async def test_a_stream_that_hears_no_pong_is_cut(aiohttp_server, session) -> None:
    paused = asyncio.Event()  # never set: the peer reads nothing, as a stopped process
    peer = Peer(hang_open=paused)
    lanes = lanes_for(session, {"n2": await serve(aiohttp_server, peer)}, keepalive=0.2)
    lanes.send([beat("n2")])
    await wait_until(lambda: "n2" in lanes.streams, timeout=5, what="the stream to open")
    # A ping after 0.2 s of silence, and no pong 0.1 s later: the stream is closed.
    await wait_until(lambda: "n2" not in lanes.streams, timeout=3, what="the stream to be cut")
    paused.set()
    await lanes.close()


async def test_a_node_still_starting_counts_as_an_answer(aiohttp_server, session) -> None:
    peer = Peer(refuse=503)  # not registered yet: it refuses streams for now
    lanes = lanes_for(session, {"n2": await serve(aiohttp_server, peer)})
    lanes.send([beat("n2")])
    await wait_until(lambda: "n2" in lanes.answered, timeout=5, what="the 503, as an answer")
    assert "n2" not in lanes.retry_at, "a node: never rested"
    await lanes.close()


async def test_a_hanging_peer_holds_one_connection_and_the_others_are_not_delayed(
    aiohttp_server, session
) -> None:
    release = asyncio.Event()
    slow, fast = Peer(hang=release), Peer()  # slow never answers the stream's handshake
    urls = {"slow": await serve(aiohttp_server, slow), "fast": await serve(aiohttp_server, fast)}
    lanes = lanes_for(session, urls)
    lanes.heard_from("slow")  # a real peer that answered before: it is never rested
    for _ in range(20):
        lanes.send([beat("slow"), beat("fast")])
        await asyncio.sleep(0.01)  # the leader's heartbeats, sped up
    await wait_until(
        lambda: len(fast.received) == 20, timeout=5, what="every message to the fast peer"
    )
    assert slow.most_in_flight == 1, "one connection at a time to a hanging peer"
    assert len(lanes.queues.get("slow", ())) <= QUEUE_PER_PEER
    release.set()
    await lanes.close()


@pytest.fixture
async def hangup():
    port = Hangup()
    yield port
    await port.stop()


async def test_a_peer_that_never_answered_is_tried_less_and_less(session, hangup) -> None:
    lanes = lanes_for(session, {"ghost": await hangup.start()})
    for _ in range(30):  # 3 s of heartbeats every 0.1 s
        lanes.send([beat("ghost")])
        await asyncio.sleep(0.1)
    await lanes.close()
    # Pauses of 0.1, 0.2, 0.4, 0.8, 1.6 s: about 5 tries in 3 s instead of 30. A try may
    # cost two connections here: aiohttp opens a GET (the stream's handshake) again once
    # when the server hangs up before answering.
    tries = hangup.connections
    assert 3 <= tries <= 16, f"{tries} connections in 3 s to a silent peer (30 messages)"


async def test_a_first_round_reaches_every_peer_never_talked_to(aiohttp_server, session) -> None:
    # Majority vote: followers only ever talk to the leader, so when it dies a candidate's
    # RequestVote goes to peers it has never heard from. All of them must get it at once.
    peers = {f"n{i}": Peer() for i in range(2, 6)}
    urls = {name: await serve(aiohttp_server, p) for name, p in peers.items()}
    lanes = lanes_for(session, urls)
    lanes.send([beat(name) for name in peers])
    await wait_until(
        lambda: all(p.received == [1] for p in peers.values()), timeout=2, what="all four peers"
    )
    await lanes.close()


async def test_a_peer_that_answered_before_is_tried_at_every_message(session, hangup) -> None:
    lanes = lanes_for(session, {"n2": await hangup.start()})
    lanes.heard_from("n2")  # it was alive once: now it is down, perhaps restarting
    for _ in range(10):
        lanes.send([beat("n2")])
        await asyncio.sleep(0.1)
    await lanes.close()
    assert hangup.connections >= 9, f"only {hangup.connections} of 10 messages were tried"


async def test_messages_to_unknown_names_share_one_refresh_and_are_bounded(session) -> None:
    refreshes: list[int] = []
    lanes = lanes_for(session, {}, refreshes)
    lanes.send([beat(f"made-up-{i}") for i in range(1000)])
    assert len(lanes.waiting) == MAX_WAITING_FOR_REFRESH
    await wait_until(lambda: lanes.refreshing is None, timeout=5, what="the refresh")
    assert refreshes == [1], "one look at the registry for all of them"
    assert lanes.waiting == [] and lanes.workers == {}


async def test_a_reply_to_a_newcomer_is_sent_once_the_refresh_lists_it(
    aiohttp_server, session
) -> None:
    newcomer = Peer()
    url = await serve(aiohttp_server, newcomer)
    urls: dict[str, str] = {}

    async def refresh() -> None:
        urls["n9"] = url  # the registry lists it by now

    lanes = PeerLanes(session, urls.get, refresh, timeout=0.2, min_backoff=0.1, keepalive=5.0)
    lanes.send([beat("n9")])
    await wait_until(lambda: newcomer.received == [1], timeout=5, what="the reply to arrive")
    await lanes.close()


async def test_a_server_that_is_not_a_node_counts_as_no_answer(aiohttp_server, session) -> None:
    hits = 0

    async def not_a_node(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        return web.Response(status=404, text="no such route")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", not_a_node)
    url = str((await aiohttp_server(app)).make_url("")).rstrip("/")
    lanes = lanes_for(session, {"impostor": url})
    for _ in range(30):  # 3 s of heartbeats every 0.1 s
        lanes.send([beat("impostor")])
        await asyncio.sleep(0.1)
    await lanes.close()
    assert "impostor" not in lanes.answered
    assert 3 <= hits <= 8, f"{hits} messages in 3 s to an address where no node answers"


class Broken:
    """A stream whose connection went while aiohttp answered a ping on it: what ``receive``
    raises when a paused peer's stream was cut under it (seen after ``kill -CONT``)."""

    close_code = None

    async def receive(self) -> aiohttp.WSMessage:
        raise ClientConnectionResetError("Cannot write to closing transport")


async def test_a_stream_that_breaks_under_a_pong_is_forgotten_quietly(session) -> None:
    lanes = lanes_for(session, {"n2": "http://127.0.0.1:9"})
    broken = Broken()
    reader = asyncio.create_task(lanes._read("n2", broken))  # type: ignore[arg-type]
    lanes.streams["n2"], lanes.readers["n2"] = broken, reader  # type: ignore[assignment]
    await asyncio.wait_for(reader, timeout=5)  # ends, without raising
    assert "n2" not in lanes.streams and "n2" not in lanes.readers, "the next send opens anew"
    await lanes.close()
