"""PeerLanes: no peer, dead, slow or made-up, costs more than its own lane.

In-process: real aiohttp servers on loopback stand in for peers, and a
``PeerLanes`` sends to them through a real session.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from stages.v2_1_election.bully import Send
from stages.v2_1_election.messages import Heartbeat
from stages.v2_1_election.transport import MAX_WAITING_FOR_REFRESH, QUEUE_PER_PEER, PeerLanes
from workbench.harness import wait_until

pytestmark = pytest.mark.timeout(30)


class Peer:
    """A fake peer that counts what it receives, and can be told to hang."""

    def __init__(self, hang: asyncio.Event | None = None) -> None:
        self.received = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.hang = hang

    async def handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await request.read()
            if self.hang is not None:
                await self.hang.wait()
            self.received += 1
            return web.json_response({"accepted": "heartbeat"}, status=202)
        finally:
            self.in_flight -= 1

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/cluster/{kind}", self.handle)
        return app


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


def lanes_for(session, urls: dict[str, str], refreshes: list[int] | None = None) -> PeerLanes:
    async def refresh() -> None:
        if refreshes is not None:
            refreshes.append(1)

    return PeerLanes(session, urls.get, refresh, timeout=0.2, min_backoff=0.1)


async def test_a_hanging_peer_holds_one_connection_and_the_others_are_not_delayed(
    aiohttp_server, session
) -> None:
    release = asyncio.Event()
    slow, fast = Peer(hang=release), Peer()
    slow_url = str((await aiohttp_server(slow.app())).make_url("")).rstrip("/")
    fast_url = str((await aiohttp_server(fast.app())).make_url("")).rstrip("/")
    lanes = lanes_for(session, {"slow": slow_url, "fast": fast_url})
    lanes.heard_from("slow")  # a real peer that answered before: it is never rested
    for _ in range(20):
        lanes.send([beat("slow"), beat("fast")])
        await asyncio.sleep(0.01)  # the leader's heartbeats, sped up
    await wait_until(lambda: fast.received == 20, timeout=5, what="every message to the fast peer")
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
    # Pauses of 0.1, 0.2, 0.4, 0.8, 1.6 s: about 5 tries in 3 s instead of 30.
    assert 3 <= hangup.connections <= 8, f"{hangup.connections} tries in 3 s to a silent peer"


async def test_a_first_round_reaches_every_peer_never_talked_to(aiohttp_server, session) -> None:
    # Majority vote: followers only ever talk to the leader, so when it dies a candidate's
    # RequestVote goes to peers it has never heard from. All of them must get it at once.
    peers = {f"n{i}": Peer() for i in range(2, 6)}
    urls = {
        name: str((await aiohttp_server(p.app())).make_url("")).rstrip("/")
        for name, p in peers.items()
    }
    lanes = lanes_for(session, urls)
    lanes.send([beat(name) for name in peers])
    await wait_until(
        lambda: all(p.received == 1 for p in peers.values()), timeout=2, what="all four peers"
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
    url = str((await aiohttp_server(newcomer.app())).make_url("")).rstrip("/")
    urls: dict[str, str] = {}

    async def refresh() -> None:
        urls["n9"] = url  # the registry lists it by now

    lanes = PeerLanes(session, urls.get, refresh, timeout=0.2, min_backoff=0.1)
    lanes.send([beat("n9")])
    await wait_until(lambda: newcomer.received == 1, timeout=5, what="the reply to arrive")
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
