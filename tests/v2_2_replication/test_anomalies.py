"""What v2.2 gets wrong, forced step by step in-process; the checker calls each history
not linearizable. A follower is made to miss a write the way a partition would: it hears a
(made-up) leader of a newer term, so it refuses the real leader's replication."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from stages.v2_registry.server import RegistryConfig, create_registry_app
from tests.v2_2_replication.nodes import Nodes, nodes_of
from workbench.history.checker import check, read_history

pytestmark = pytest.mark.timeout(60)


class History:
    """What the test's one client asked and was told, as ``ddb workload`` records it."""

    def __init__(self, nodes: Nodes) -> None:
        self.nodes, self.lines = nodes, []

    def record(self, kind: str, f: str, value: int | None, node: str) -> None:
        event = {"process": 0, "type": kind, "f": f, "key": "x", "value": value, "node": node}
        self.lines.append(json.dumps(event))

    async def write(self, node: str, value: int) -> None:
        self.record("invoke", "write", value, node)
        resp = await self.nodes.clients[node].put("/kv/x", data=str(value).encode())
        assert resp.status in (200, 201)  # acknowledged
        self.record("ok", "write", value, node)

    async def read(self, node: str) -> int | None:
        self.record("invoke", "read", None, node)
        value = await self.nodes.read(node, "x")
        self.record("ok", "read", None if value is None else int(value), node)
        return None if value is None else int(value)

    def linearizable(self) -> bool | None:
        return check(read_history(self.lines)).linearizable


@pytest.fixture
async def nodes(aiohttp_server, unused_tcp_port_factory) -> AsyncIterator[Nodes]:
    registry: TestServer = await aiohttp_server(create_registry_app(RegistryConfig(ttl=1.0)))
    async with nodes_of(registry, unused_tcp_port_factory) as nodes:
        yield nodes


async def cut_off(nodes: Nodes, name: str) -> None:
    """``name`` now believes a leader n9 of a newer term: it refuses the real leader's writes."""
    term = (await nodes.status(name))["term"] + 1
    hello = {"type": "heartbeat", "sender": "n9", "term": term}
    assert (await nodes.clients[name].post("/cluster/heartbeat", json=hello)).status == 202


async def test_a_follower_that_missed_a_write_gives_a_stale_read(nodes: Nodes) -> None:
    for name in ("n1", "n2", "n3"):
        await nodes.start(name)
    await nodes.agree("n3")
    history = History(nodes)
    await history.write("n3", 1)
    await cut_off(nodes, "n1")
    await history.write("n3", 2)  # acknowledged, though n1 refused it
    assert await history.read("n1") == 1  # after the write returned: stale
    assert history.linearizable() is False


async def test_replicas_disagree_and_their_digests_show_it(nodes: Nodes) -> None:
    for name in ("n1", "n2", "n3"):
        await nodes.start(name)
    await nodes.agree("n3")
    history = History(nodes)
    await cut_off(nodes, "n1")
    await history.write("n3", 1)
    digests = {name: (await nodes.status(name))["digest"] for name in nodes.clients}
    assert digests["n2"] == digests["n3"] != digests["n1"]
    assert [await history.read(name) for name in ("n2", "n1", "n3")] == [1, None, 1]
    assert history.linearizable() is False


async def test_bully_elects_a_node_that_missed_an_acknowledged_write_and_loses_it(
    nodes: Nodes,
) -> None:
    await nodes.start("n1")
    await nodes.start("n2")
    await nodes.agree("n2")
    history = History(nodes)
    await cut_off(nodes, "n1")
    await history.write("n2", 1)  # the client hears "done"
    await nodes.stop("n2")  # the leader dies; n1, which missed the write, is elected
    await nodes.agree("n1")
    assert await history.read("n1") is None  # the acknowledged write is gone
    assert history.linearizable() is False
