"""A v2 node in-process, against a real registry app on a loopback port."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from stages.v2_registry.client import RegistryClient
from stages.v2_registry.node import NodeConfig, create_node_app
from stages.v2_registry.server import RegistryConfig, create_registry_app
from workbench.harness import wait_until

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def registry(aiohttp_server) -> TestServer:
    return await aiohttp_server(create_registry_app(RegistryConfig(ttl=1.0)))


def node_app(registry: TestServer, name: str, port: int):
    config = NodeConfig(name, str(registry.make_url("")).rstrip("/"), port, heartbeat_interval=0.1)
    return create_node_app(config)


async def listed(registry: TestServer) -> list[str]:
    async with RegistryClient(str(registry.make_url(""))) as client:
        return [n.name for n in await client.nodes()]


async def test_a_node_registers_itself_and_sees_its_peers(registry, aiohttp_client) -> None:
    n1: TestClient = await aiohttp_client(node_app(registry, "n1", 9001))
    await aiohttp_client(node_app(registry, "n2", 9002))
    await wait_until(lambda: listed(registry), timeout=5, what="any registration")

    async def n1_sees_n2() -> bool:
        peers = await (await n1.get("/cluster/peers")).json()
        return [p["name"] for p in peers["peers"]] == ["n2"]

    await wait_until(n1_sees_n2, timeout=5, what="n1 to see n2")
    body = await (await n1.get("/cluster/peers")).json()
    assert body["name"] == "n1" and body["registered"] is True
    assert body["peers"][0]["url"] == "http://127.0.0.1:9002"


async def test_the_v1_kv_routes_still_work_on_a_node(registry, aiohttp_client) -> None:
    node: TestClient = await aiohttp_client(node_app(registry, "n1", 9001))
    assert (await node.put("/kv/users/42", data=b"Ada")).status == 201
    assert await (await node.get("/kv/users/42")).read() == b"Ada"
    assert (await (await node.get("/nodes")).json())["error"]["code"] == "not_found"


async def test_a_node_deregisters_when_its_app_shuts_down(registry, aiohttp_client) -> None:
    node: TestClient = await aiohttp_client(node_app(registry, "n1", 9001))

    async def registered() -> bool:
        return await listed(registry) == ["n1"]

    await wait_until(registered, timeout=5, what="n1 to register")
    await node.close()
    assert await listed(registry) == []  # at once, not after the TTL


async def test_a_node_started_before_its_registry_registers_when_it_comes_up(
    aiohttp_client, unused_tcp_port: int
) -> None:
    port = unused_tcp_port
    config = NodeConfig("early", f"http://127.0.0.1:{port}", 9001, heartbeat_interval=0.1)
    node: TestClient = await aiohttp_client(create_node_app(config))
    assert (await (await node.get("/cluster/peers")).json())["registered"] is False
    registry = TestServer(create_registry_app(), port=port)
    await registry.start_server()
    try:

        async def registered() -> bool:
            return (await (await node.get("/cluster/peers")).json())["registered"]

        await wait_until(registered, timeout=5, what="the node to register")
        assert await listed(registry) == ["early"]
    finally:
        await node.close()
        await registry.close()
