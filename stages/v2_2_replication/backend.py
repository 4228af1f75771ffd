"""Where a v2.2 node's key/value writes go: :class:`ReplicatedKV`, v1's backend seam.

v1's handlers call ``write`` for every PUT and DELETE. On the leader it applies the write
to the local store, sends it to every follower at once, waits for their answers up to
``timeout``, logs the ones that failed, and returns (so the client hears "done" whatever
the followers said). On a follower it answers ``307`` to the leader, or ``503`` when it
knows none. Reads stay v1's: the local store, on any node.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from stages.v1_kv.backend import LocalKV
from stages.v1_kv.client import key_path
from stages.v1_kv.commands import Command, WriteResult
from stages.v1_kv.errors import ApiError
from stages.v1_kv.store import KVStore
from stages.v2_2_replication.messages import Replicate

log = logging.getLogger(__name__)

RETRY_AFTER = 1  # seconds: a client that met no leader tries again after so long


@dataclass(frozen=True)
class Cluster:
    """What the backend needs to know about the election, read at each write."""

    name: str
    session: Callable[[], aiohttp.ClientSession]
    leader: Callable[[], str | None]  # who this node believes leads
    term: Callable[[], int]
    followers: Callable[[], list[str]]  # every peer, when this node leads
    url_of: Callable[[str], str | None]  # a peer's base URL


class ReplicatedKV(LocalKV):
    """v1's ``LocalKV`` whose writes go through the leader; see the module's doc."""

    def __init__(self, timeout: float, store: KVStore | None = None) -> None:
        super().__init__(store)
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._cluster: Cluster | None = None

    def attach(self, cluster: Cluster) -> None:
        self._cluster = cluster

    @property
    def cluster(self) -> Cluster:
        assert self._cluster is not None, "the backend is not attached to a node"
        return self._cluster

    # --8<-- [start:write]
    async def write(self, command: Command) -> WriteResult:
        cluster = self.cluster
        leader = cluster.leader()
        if leader != cluster.name:
            raise self.not_here(leader, command)
        term = cluster.term()
        result = self.store.apply(command)  # applied here first: the client will hear "done"
        message = Replicate.of(cluster.name, term, command)
        followers = cluster.followers()
        answers = await asyncio.gather(*(self.replicate(peer, message) for peer in followers))
        failed = [f"{peer} ({why})" for peer, why in zip(followers, answers, strict=True) if why]
        if failed:  # and the client still hears "done": the lesson of this stage
            log.warning(
                "%s at term %d: %s %r did not reach %s",
                cluster.name, term, type(command).__name__.lower(), command.key, ", ".join(failed),
            )  # fmt: skip
        return result

    async def replicate(self, peer: str, message: Replicate) -> str | None:
        """Send one write to one follower; None if it took it, else what went wrong."""
        url = self.cluster.url_of(peer)
        if url is None:
            return "no address"
        try:
            async with self.cluster.session().post(
                f"{url}/cluster/replicate", json=message.to_json(), timeout=self.timeout
            ) as response:
                if response.status == 202:
                    return None
                return f"HTTP {response.status}: {(await response.text())[:200].strip()}"
        except (TimeoutError, aiohttp.ClientError) as exc:
            return str(exc) or type(exc).__name__

    # --8<-- [end:write]

    # --8<-- [start:not_here]
    def not_here(self, leader: str | None, command: Command) -> Exception:
        """A follower's answer to a write: ``307`` to the leader, or ``503`` without one."""
        url = None if leader is None else self.cluster.url_of(leader)
        if leader is None or url is None:
            return ApiError(  # a Retry-After header is added on the way out (node.py)
                503,
                "no_leader",
                f"{self.cluster.name} knows no leader yet (an election may be under way); "
                f"try again in {RETRY_AFTER} s",
            )
        location = url + key_path(command.key)
        body = {"leader": leader, "leader_url": url, "location": location}
        return web.HTTPTemporaryRedirect(  # 307, not 301: a 301 may turn a PUT into a GET
            location, text=json.dumps(body) + "\n", content_type="application/json"
        )

    # --8<-- [end:not_here]
