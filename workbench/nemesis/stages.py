"""What differs between the stages a nemesis runs against: the seam :func:`run_trial` uses.

One run is the same for every stage (start, load, break, heal, read back, check). Three
things are not, and a :class:`StageUnderTest` says them:

* how to start node ``NAME`` (and start it again after a fault): its flags. A v3.0 node
  gets ``--voters`` and its own ``--data-dir``, the same one on every restart: what it
  wrote to its log before ``kill -9`` is what it finds there again;
* when a healed cluster has settled: every v2.2 node has taken its copy of the leader's
  store; every v3.0 node has applied the whole of the leader's log;
* how to read one node's own copy: a v2.2 node answers reads from its store; a v3.0 node
  sends a linearizable read to its leader, so its own copy is ``?consistency=stale``. And
  each node's store in short, to compare: v2.2's ``/cluster/replication`` digest, and for
  v3.0 the same digest computed here from the node's keys (``GET /kv``) and stale reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from stages.v2_2_replication.replication import digest

Urls = dict[str, str]  # node name -> its URL


class StageUnderTest(Protocol):
    """What one run needs to know of the nodes it starts, breaks, heals and reads back."""

    @property
    def stage(self) -> str: ...  # `ddb STAGE node`

    @property
    def read_query(self) -> str: ...  # added to a final read's URL: the node's own copy

    def flags(self, name: str) -> tuple[str, ...]: ...

    async def caught_up(self, session: aiohttp.ClientSession, urls: Urls) -> bool: ...

    async def digest(self, session: aiohttp.ClientSession, url: str) -> str | None: ...


async def get_json(session: aiohttp.ClientSession, url: str) -> Any:
    """A ``GET``'s JSON body, or None if the node does not answer it with ``200``."""
    try:
        async with session.get(url) as response:
            return await response.json() if response.status == 200 else None
    except (TimeoutError, aiohttp.ClientError, ValueError):
        return None


@dataclass(frozen=True)
class Replication:
    """v2.2: simple replication, with v2.1's Bully or majority-vote election."""

    names: tuple[str, ...]
    election: str = "bully"
    stage: str = "v2.2"
    read_query: str = ""

    def flags(self, name: str) -> tuple[str, ...]:
        if self.election == "quorum":
            return ("--election", "quorum", "--voters", ",".join(self.names))
        return ("--election", self.election)

    async def caught_up(self, session: aiohttp.ClientSession, urls: Urls) -> bool:
        """Every node has taken its one copy of the leader's store (or did not need it)."""
        views = [await get_json(session, f"{url}/cluster/replication") for url in urls.values()]
        return all(isinstance(view, dict) and view.get("copied") for view in views)

    async def digest(self, session: aiohttp.ClientSession, url: str) -> str | None:
        view = await get_json(session, f"{url}/cluster/replication")
        return view.get("digest") if isinstance(view, dict) else None


@dataclass(frozen=True)
class ReplicatedLog:
    """v3.0: Raft's log; each node's write-ahead log in ``data / NAME``."""

    names: tuple[str, ...]
    data: Path
    stage: str = "v3"
    read_query: str = "?consistency=stale"

    def flags(self, name: str) -> tuple[str, ...]:
        return ("--voters", ",".join(self.names), "--data-dir", str(self.data / name))

    async def caught_up(self, session: aiohttp.ClientSession, urls: Urls) -> bool:
        """One leader, whose every entry is committed, and every node has applied them all."""
        logs = [await get_json(session, f"{url}/cluster/log") for url in urls.values()]
        if not all(isinstance(log, dict) for log in logs):
            return False
        leaders = [log for log in logs if log["role"] == "leader"]
        if len(leaders) != 1 or leaders[0]["commit"] != leaders[0]["last_index"]:
            return False
        return all(log["applied"] == leaders[0]["commit"] for log in logs)

    async def digest(self, session: aiohttp.ClientSession, url: str) -> str | None:
        """v2.2's digest of this node's applied state: its keys, each read stale."""
        listed = await get_json(session, f"{url}/kv")
        if not isinstance(listed, dict):
            return None
        items = {}
        for key in listed["keys"]:
            try:
                async with session.get(f"{url}/kv/{key}{self.read_query}") as response:
                    if response.status != 200:
                        return None
                    items[key] = await response.read()
            except (TimeoutError, aiohttp.ClientError):
                return None
        return digest(items)


def under_test(stage: str, election: str, names: list[str], data: Path) -> StageUnderTest:
    """The stage ``ddb nemesis --stage`` names; ``data``: where v3.0 nodes keep their logs."""
    if stage == "v3":
        return ReplicatedLog(tuple(names), data)
    return Replication(tuple(names), election)


def label(stage: str, election: str) -> str:
    """What a report calls the nodes: ``v2.2 (bully)``, ``v3 (Raft)``."""
    return "v3 (Raft)" if stage == "v3" else f"{stage} ({election})"


STAGES = ("v2.2", "v3")
