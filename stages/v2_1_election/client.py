"""A typed async client for a v2.1 node's view of the election (``GET /cluster/status``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stages.v1_kv.client import HttpClient
from stages.v2_registry.models import InvalidMessage


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

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "term": self.term,
            "leader": self.leader,
            "leader_url": self.leader_url,
            "peers": list(self.peers),
            "algorithm": self.algorithm,
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
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidMessage(f"not a cluster status: {data!r} ({exc})") from None


class ElectionClient(HttpClient):
    """Ask a v2.1 node how it sees the election."""

    async def status(self) -> ClusterStatus:
        _, body = await self._json("GET", "/cluster/status")
        return ClusterStatus.from_json(body)
