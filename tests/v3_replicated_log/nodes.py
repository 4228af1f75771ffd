"""In-process v3.0 nodes on real loopback ports, for the HTTP tests; each keeps its log in a
MemoryStorage that outlives it, so a test can restart a node with what it had kept."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from stages.v2_1_election.quorum_config import QuorumConfig
from stages.v2_registry.node import NodeConfig
from stages.v3_replicated_log.driver import RaftDriver
from stages.v3_replicated_log.node import create_raft_app, raft_driver
from stages.v3_replicated_log.storage import LogStorage, MemoryStorage
from workbench.harness import wait_until


@dataclass
class Nodes:
    registry_url: str
    ports: Any  # pytest's unused_tcp_port_factory
    voters: Sequence[str] = ("n1", "n2", "n3")
    timeout: float = 5.0
    clients: dict[str, TestClient] = field(default_factory=dict)
    disks: dict[str, LogStorage] = field(default_factory=dict)

    async def start(self, name: str, storage: LogStorage | None = None) -> TestClient:
        port = self.ports()
        config = NodeConfig(name, self.registry_url, port, heartbeat_interval=0.2)
        settings = QuorumConfig(tuple(self.voters))
        disk = storage or self.disks.get(name) or MemoryStorage()
        self.disks[name] = disk
        app = create_raft_app(config, settings, disk, timeout=self.timeout)
        client = TestClient(TestServer(app, host="127.0.0.1", port=port))
        await client.start_server()
        self.clients[name] = client
        return client

    async def stop(self, name: str) -> None:
        await self.clients.pop(name).close()

    def driver(self, name: str) -> RaftDriver:
        app = self.clients[name].app
        assert app is not None
        return raft_driver(app)

    def url(self, name: str) -> str:
        return str(self.clients[name].make_url("")).rstrip("/")

    async def agree(self, timeout: float = 10) -> str:
        """Wait until every running node follows one leader; return its name."""
        found: list[str] = []

        def agreed() -> bool:
            cores = [self.driver(name).core for name in self.clients]
            leaders = {core.name for core in cores if core.role.value == "leader"}
            if len(leaders) != 1 or {core.leader for core in cores} != leaders:
                return False
            found[:] = [leaders.pop()]
            return True

        await wait_until(agreed, timeout=timeout, what=f"{list(self.clients)} to agree")
        return found[0]

    def follower(self, leader: str) -> str:
        return min(name for name in self.clients if name != leader)

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
