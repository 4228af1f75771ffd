"""A v2.1 node hears of a newcomer from its blocking query at the registry, at once, and
asks nothing while nothing changes.

In-process: a real registry app that counts its requests, and one node whose own registry
heartbeat (which fetches the list too) comes only every 30 s.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from aiohttp import web

from stages.v1_kv.errors import Handler
from stages.v2_1_election.algorithms import ALGORITHMS
from stages.v2_1_election.node import DRIVER, create_election_app
from stages.v2_registry.node import MEMBERSHIP, NodeConfig
from stages.v2_registry.server import RegistryConfig, create_registry_app
from workbench.harness import wait_until

pytestmark = pytest.mark.timeout(30)


async def test_a_node_hears_of_a_newcomer_from_its_blocking_query(
    aiohttp_server, aiohttp_client
) -> None:
    lists: list[float] = []  # when each GET /nodes came

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "GET" and request.path == "/nodes":
            lists.append(time.monotonic())
        return await handler(request)

    registry_app = create_registry_app(RegistryConfig(ttl=120.0))
    registry_app.middlewares.append(count)
    registry = await aiohttp_server(registry_app)
    url = str(registry.make_url("")).rstrip("/")
    bully = ALGORITHMS["bully"]
    config = NodeConfig("n1", url, 9001, heartbeat_interval=30.0)
    app = create_election_app(config, bully.factory(bully.settings()))
    await aiohttp_client(app)
    await wait_until(lambda: app[MEMBERSHIP].registered, timeout=5, what="n1 to register")
    # Start-up asks a few times (the heartbeat's list, the first query, a query that
    # crossed our own registration); then the query stays open.
    await wait_until(
        lambda: lists and time.monotonic() - lists[-1] > 0.5, timeout=5, what="a quiet registry"
    )
    at_rest = len(lists)
    await asyncio.sleep(1.0)  # a second at rest: a poll would have asked four times
    assert len(lists) == at_rest, "nothing changed, so nothing was asked"
    async with aiohttp.ClientSession() as by_hand:
        joined = time.monotonic()
        n2 = {"name": "n2", "port": 9002}
        async with by_hand.post(registry.make_url("/nodes"), json=n2) as resp:
            assert resp.status == 201
        await wait_until(
            lambda: "n2" in app[DRIVER].peers.names(), timeout=5, what="n2 in n1's view"
        )
    assert time.monotonic() - joined < 1.0, "within a round trip, not at a heartbeat 30 s on"
    assert "n2" in app[DRIVER].elector.peers, "and in the election's peers"
