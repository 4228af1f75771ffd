"""A typed async client for a v2.1 node's view of the election (``GET /cluster/status``),
and every registered node's view at once (what ``ddb nodes`` shows, and a dashboard would)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp

from stages.v1_kv.client import ClientError, HttpClient
from stages.v2_registry.client import RegistryClient, pid_of
from stages.v2_registry.models import InvalidMessage, NodeInfo


@dataclass(frozen=True)
class ClusterStatus:
    """One node's view: its role and term, and whom it follows."""

    name: str
    role: str  # "follower", "candidate" or "leader"
    term: int
    leader: str | None
    leader_url: str | None
    peers: tuple[str, ...]
    algorithm: str
    voter: bool = True  # False: a non-voter, which follows but never votes or campaigns

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "term": self.term,
            "leader": self.leader,
            "leader_url": self.leader_url,
            "peers": list(self.peers),
            "algorithm": self.algorithm,
            "voter": self.voter,
        }

    @classmethod
    def from_json(cls, data: Any) -> ClusterStatus:
        try:
            return cls(
                name=str(data["name"]),
                role=str(data["role"]),
                term=int(data["term"]),
                leader=None if data["leader"] is None else str(data["leader"]),
                leader_url=None if data["leader_url"] is None else str(data["leader_url"]),
                peers=tuple(str(peer) for peer in data["peers"]),
                algorithm=str(data["algorithm"]),
                voter=data.get("voter", True) is not False,  # older nodes do not say: voters
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidMessage(f"not a cluster status: {data!r} ({exc})") from None


class ElectionClient(HttpClient):
    """Ask a v2.1 node how it sees the election."""

    async def status(self) -> ClusterStatus:
        _, body = await self._json("GET", "/cluster/status")
        return ClusterStatus.from_json(body)


@dataclass(frozen=True)
class NodeView:
    """A registered node as ``ddb nodes`` shows it: its entry, its process, its election."""

    node: NodeInfo
    pid: int | None  # None: it did not answer
    status: ClusterStatus | None  # None: a v2 node, or one that did not answer


async def nodes_with_status(registry_url: str, timeout: float) -> list[NodeView]:
    """Every node the registry lists, with its pid and its view of the election.

    One session for every call, and every node asked at once: a silent node costs one
    timeout (at most a second), not one per node.
    """
    async with aiohttp.ClientSession() as session:
        registry = RegistryClient(registry_url, timeout=timeout, session=session)
        nodes = await registry.nodes()

        async def status_of(url: str) -> ClusterStatus | None:
            try:
                return await ElectionClient(
                    url, timeout=min(timeout, 1.0), session=session
                ).status()
            except (ClientError, InvalidMessage):
                return None

        statuses, pids = await asyncio.gather(
            asyncio.gather(*(status_of(node.url) for node in nodes)),
            asyncio.gather(*(pid_of(node.url, session, timeout) for node in nodes)),
        )
    return [
        NodeView(node, pid, status) for node, pid, status in zip(nodes, pids, statuses, strict=True)
    ]
