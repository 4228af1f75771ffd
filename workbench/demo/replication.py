"""The v2.2 demo's dashboard: v2.1's election view, and each node's copy of a key side by side.

It adds one route through the :class:`~workbench.demo.dashboard.Stage` hook::

    GET /api/copies/{key}  {"key", "leader", "copies": [copy, ...]}

A copy is ``{"name", "process", "leader", "found", "value", "digest", "live", "stale"}``:
what the node holds for the key and its whole store's digest (``/cluster/replication``).
A node that cannot answer (paused, killed, busy) shows its last known copy with
``live: false``; a copy that differs from the leader's is ``stale``.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from aiohttp import web

from stages.v1_kv.client import ClientError, KeyNotFound, KVClient
from stages.v2_1_election.watch import ElectionWatch
from workbench.demo.dashboard import ASK_TIMEOUT, SESSION, SUPERVISOR, WATCH, Stage, entry
from workbench.demo.election import look_at_election
from workbench.demo.supervisor import RUNNING, Child

routes = web.RouteTableDef()
KEPT_KEYS = 100  # the last known copies are kept for this many keys, the latest asked for


@dataclass(frozen=True)
class Copy:
    """One node's copy of a key: ``value`` is None when the node has no such key."""

    found: bool = False
    value: str | None = None
    digest: str | None = None


class ReplicationWatch(ElectionWatch):
    """v2.1's watch, which also keeps the last copy each node gave of each key asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.copies: dict[str, dict[str, Copy]] = {}  # key -> node -> its last copy

    def remember(self, key: str, node: str, copy: Copy) -> None:
        self.copies[key] = self.copies.pop(key, {}) | {node: copy}  # the latest key goes last
        while len(self.copies) > KEPT_KEYS:
            del self.copies[next(iter(self.copies))]  # the key asked for longest ago


def leader(nodes: list[dict[str, Any]]) -> str | None:
    """The running node that says it leads (two claim it: the newer term), as the page says."""
    leaders = [n for n in nodes if n["role"] == "leader" and n["process"] == RUNNING]
    return max(leaders, key=lambda n: n["term"] or 0)["name"] if leaders else None


async def ask(session: aiohttp.ClientSession, child: Child, key: str) -> Copy | None:
    """The node's copy of ``key`` and its store's digest, or None when it cannot answer."""
    if child.state() != RUNNING:
        return None
    client = KVClient(child.url, timeout=ASK_TIMEOUT, session=session)
    try:
        value: str | None = (await client.get(key)).decode("utf-8", "replace")
    except KeyNotFound:
        value = None
    except ClientError:
        return None
    copy = Copy(value is not None, value)
    with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        timeout = aiohttp.ClientTimeout(total=ASK_TIMEOUT)
        async with session.get(f"{child.url}/cluster/replication", timeout=timeout) as answer:
            copy = replace(copy, digest=str((await answer.json())["digest"]))
    return copy


# --8<-- [start:copies]
@routes.get("/api/copies/{key:.+}")
async def copies(request: web.Request) -> web.Response:
    """``GET /api/copies/{key}``: every node's copy of one key, compared with the leader's."""
    app, key = request.app, request.match_info["key"]
    children = list(app[SUPERVISOR].children.values())
    answers = await asyncio.gather(*(ask(app[SESSION], child, key) for child in children))
    watch, leading = app[WATCH], leader([entry(app, child) for child in children])
    assert isinstance(watch, ReplicationWatch)
    shown: list[dict[str, Any]] = []
    for child, answer in zip(children, answers, strict=True):
        if answer is not None:
            watch.remember(key, child.name, answer)
        known = answer or watch.copies.get(key, {}).get(child.name, Copy())
        shown.append({"name": child.name, "process": child.state(), "leader": child.name == leading,
                      "found": known.found, "value": known.value, "digest": known.digest,
                      "live": answer is not None})  # fmt: skip
    ours = next((row for row in shown if row["leader"]), None)
    for row in shown:  # with no leader, no copy is the one to compare with
        row["stale"] = ours is not None and row["value"] != ours["value"]
    return web.json_response({"key": key, "leader": leading, "copies": shown})


# --8<-- [end:copies]


REPLICATION_STAGE = Stage("v2.2", ReplicationWatch, look_at_election, tuple(routes))
