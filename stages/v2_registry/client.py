"""A typed async client for the registry's HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp

from stages.v1_kv.client import ClientError, HttpClient, KVClient, RequestFailed
from stages.v2_registry.models import InvalidMessage, NodeInfo, Registration

T = TypeVar("T")


@dataclass(frozen=True)
class RegisterReply:
    """The registry's answer to a registration or renewal."""

    node: NodeInfo
    created: bool  # True on first registration (or after the registry forgot us)
    ttl: float


class RegistryClient(HttpClient):
    """Register, renew, list, look up and deregister nodes."""

    async def register(self, name: str, port: int, host: str | None = None) -> RegisterReply:
        """Register ``name`` or renew its entry: the same call is the heartbeat."""
        reg = Registration(name=name, port=port, host=host)
        status, body = await self._json("POST", "/nodes", json=reg.to_json())
        return self._parse(
            "POST /nodes",
            lambda: RegisterReply(NodeInfo.from_json(body), status == 201, float(body["ttl"])),
        )

    async def nodes(self) -> list[NodeInfo]:
        _, body = await self._json("GET", "/nodes")
        return self._parse("GET /nodes", lambda: [NodeInfo.from_json(n) for n in body["nodes"]])

    async def watch_nodes(self, index: int | None, wait: float) -> tuple[list[NodeInfo], int]:
        """The list and its index. Given the index of an earlier answer, the registry holds
        this one until the list changes, for ``wait`` seconds at most (a blocking query):
        this client's timeout must be longer than that."""
        query = "" if index is None else f"?index={index}&wait={wait:g}"
        _, body = await self._json("GET", "/nodes" + query)
        return self._parse(
            "GET /nodes",
            lambda: ([NodeInfo.from_json(n) for n in body["nodes"]], int(body["index"])),
        )

    async def node(self, name: str) -> NodeInfo | None:
        try:
            _, body = await self._json("GET", f"/nodes/{quote(name, safe='')}")
        except RequestFailed as exc:
            if exc.status == 404:
                return None
            raise
        return self._parse(f"GET /nodes/{name}", lambda: NodeInfo.from_json(body))

    async def deregister(self, name: str) -> bool:
        """Remove ``name``; return False if the registry did not know it."""
        try:
            await self._request("DELETE", f"/nodes/{quote(name, safe='')}")
        except RequestFailed as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def health(self) -> dict[str, Any]:
        _, body = await self._json("GET", "/health")
        return self._parse("GET /health", lambda: dict(body))

    def _parse(self, what: str, parse: Callable[[], T]) -> T:
        """Build a reply from the registry's JSON, or say in one line that it was nonsense."""
        try:
            return parse()
        except KeyError as exc:
            raise self._invalid(f"the answer to {what} has no {exc} field") from None
        except (InvalidMessage, TypeError, ValueError) as exc:
            raise self._invalid(f"the answer to {what} is not a registry's ({exc})") from None


async def pid_of(url: str, session: aiohttp.ClientSession, timeout: float) -> int | None:
    """The process id a node reports in its ``/health``, or None if it does not answer."""
    try:
        pid = (await KVClient(url, timeout=min(timeout, 1.0), session=session).health())["pid"]
    except (ClientError, KeyError, TypeError, ValueError):
        return None
    return pid if isinstance(pid, int) else None
