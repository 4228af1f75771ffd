"""In-process v2.2 nodes on real loopback ports, for the HTTP tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from stages.v2_1_election.algorithms import ALGORITHMS
from stages.v2_2_replication.node import create_replication_app
from stages.v2_registry.node import NodeConfig
from workbench.harness import wait_until


@dataclass
class Nodes:
    registry_url: str
    ports: Any  # pytest's unused_tcp_port_factory
    election: str = "bully"
    voters: Sequence[str] = ("n1", "n2", "n3")
    clients: dict[str, TestClient] = field(default_factory=dict)

    async def start(self, name: str, **flags: Any) -> TestClient:
        port = self.ports()
        config = NodeConfig(name, self.registry_url, port, heartbeat_interval=0.2, **flags)
        algorithm = ALGORITHMS[self.election]
        settings = algorithm.settings(list(self.voters) if self.election == "quorum" else None)
        app = create_replication_app(config, algorithm.factory(settings), replication_timeout=0.5)
        client = TestClient(TestServer(app, host="127.0.0.1", port=port))
        await client.start_server()
        self.clients[name] = client
        return client

    async def stop(self, name: str) -> None:
        await self.clients.pop(name).close()

    async def status(self, name: str) -> dict[str, Any]:
        resp = await self.clients[name].get("/cluster/replication")
        return dict(await resp.json())

    async def agree(self, leader: str | None = None, timeout: float = 10) -> str:
        """Wait until every running node follows one leader (``leader``, if given)."""
        found: list[str] = []

        async def agreed() -> bool:
            views = [await self.status(name) for name in self.clients]
            leaders = {v["name"] for v in views if v["role"] == "leader"}
            believed = {v["leader"] for v in views}
            if len(leaders) != 1 or believed != leaders or (leader and leaders != {leader}):
                return False
            found[:] = [leaders.pop()]
            return True

        await wait_until(agreed, timeout=timeout, what=f"{list(self.clients)} to agree")
        return found[0]

    async def read(self, name: str, key: str) -> bytes | None:
        resp = await self.clients[name].get(f"/kv/{key}")
        return await resp.read() if resp.status == 200 else None

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()


@asynccontextmanager
async def nodes_of(registry: TestServer, ports: Any, **kwargs: Any) -> AsyncIterator[Nodes]:
    nodes = Nodes(str(registry.make_url("")).rstrip("/"), ports, **kwargs)
    try:
        yield nodes
    finally:
        await nodes.close()
