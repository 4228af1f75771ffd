"""v2.2 nodes in-process, over real loopback HTTP: redirects, replication, reads, catch-up."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from stages.v1_kv.client import KVClient
from stages.v2_registry.server import RegistryConfig, create_registry_app
from tests.v2_2_replication.nodes import Nodes, nodes_of
from workbench.harness import wait_until

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def registry(aiohttp_server) -> TestServer:
    return await aiohttp_server(create_registry_app(RegistryConfig(ttl=1.0)))


@pytest.fixture(params=["bully", "quorum"])
async def three(registry: TestServer, unused_tcp_port_factory, request) -> AsyncIterator[Nodes]:
    async with nodes_of(registry, unused_tcp_port_factory, election=request.param) as nodes:
        for name in ("n1", "n2", "n3"):
            await nodes.start(name)
        await nodes.agree()
        yield nodes


def a_follower(nodes: Nodes, leader: str) -> str:
    return min(name for name in nodes.clients if name != leader)


async def test_a_put_to_a_follower_is_a_307_to_the_leaders_url_for_that_key(three: Nodes) -> None:
    leader = await three.agree()
    follower = a_follower(three, leader)
    resp = await three.clients[follower].put("/kv/a%20b/c", data=b"v", allow_redirects=False)
    assert resp.status == 307
    leader_url = str(three.clients[leader].make_url("")).rstrip("/")
    assert resp.headers["Location"] == f"{leader_url}/kv/a%20b/c"
    body = await resp.json()
    assert body["leader"] == leader and body["leader_url"] == leader_url
    assert (resp.headers["X-DDB-Node"], resp.headers["X-DDB-Role"]) == (follower, "follower")
    assert await three.read(follower, "a%20b/c") is None  # nothing was written by the follower


async def test_a_write_through_any_node_reaches_every_node(three: Nodes) -> None:
    leader = await three.agree()
    follower = a_follower(three, leader)
    async with KVClient(str(three.clients[follower].make_url(""))) as kv:
        assert await kv.put("greeting", b"hello") is True  # followed the 307 itself
        await kv.delete("greeting")
        assert await kv.put("greeting", b"hello again") is True
    for name in three.clients:
        assert await three.read(name, "greeting") == b"hello again"
    digests = {(await three.status(name))["digest"] for name in three.clients}
    assert len(digests) == 1


async def test_reads_say_which_node_answered_and_whether_it_leads(three: Nodes) -> None:
    leader = await three.agree()
    for name, client in three.clients.items():
        resp = await client.get("/kv/missing")
        assert resp.status == 404 and (await resp.json())["error"]["code"] == "key_not_found"
        role = "leader" if name == leader else "follower"
        assert (resp.headers["X-DDB-Node"], resp.headers["X-DDB-Role"]) == (name, role)


async def test_a_node_started_after_the_writes_copies_them_from_the_leader(
    registry: TestServer, unused_tcp_port_factory
) -> None:
    async with nodes_of(registry, unused_tcp_port_factory) as nodes:
        await nodes.start("n1")
        await nodes.agree("n1")
        for i in range(5):
            assert (await nodes.clients["n1"].put(f"/kv/k{i}", data=b"%d" % i)).status == 201
        await nodes.start("n0")  # ranks lower: it joins as a follower of n1
        await nodes.agree("n1")

        async def copied() -> bool:
            return (await nodes.status("n0"))["keys"] == 5

        await wait_until(copied, timeout=5, what="n0 to copy n1's five keys")
        assert [await nodes.read("n0", f"k{i}") for i in range(5)] == [b"0", b"1", b"2", b"3", b"4"]
        assert (await nodes.status("n0"))["copied"] == "5 keys from n1 at term 1"
        assert (await nodes.status("n0"))["digest"] == (await nodes.status("n1"))["digest"]


async def test_with_no_leader_a_write_is_a_503_with_retry_after(
    registry: TestServer, unused_tcp_port_factory
) -> None:
    async with nodes_of(registry, unused_tcp_port_factory, election="quorum") as nodes:
        client = await nodes.start("n1")  # one of three voters: it can never win alone
        resp = await client.put("/kv/k", data=b"v")
        assert resp.status == 503 and resp.headers["Retry-After"] == "1"
        assert (await resp.json())["error"]["code"] == "no_leader"
        assert (await client.get("/kv/k")).status == 404  # reads still work, locally
