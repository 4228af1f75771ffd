"""The v3.0 demo's dashboard: v2.1's election view, and each node's log as it grows.

It adds one route through the :class:`~workbench.demo.dashboard.Stage` hook::

    GET /api/logs  {"leader", "logs": [log, ...]}

A log is ``{"name", "process", "live", "leader", "role", "term", "last_index", "commit",
"applied", "entries", "behind"}``: what the node's own ``GET /cluster/log`` said, with its
last few entries (``{"index", "term", "command"}``). A node that cannot answer (paused,
killed, busy) is no error: it shows the last log it gave, with ``live: false``. ``behind``
counts the entries the leader holds and the node lacks (None when no node leads).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web

from stages.v2_1_election.watch import ElectionWatch
from workbench.demo.dashboard import ASK_TIMEOUT, SESSION, SUPERVISOR, WATCH, Stage
from workbench.demo.election import look_at_election
from workbench.demo.supervisor import RUNNING, Child

routes = web.RouteTableDef()
SHOWN_ENTRIES = 8  # at most this many of a node's last entries reach the page
SHOWN_COMMAND = 40  # characters of an entry's command, at most
NUMBERS = ("term", "last_index", "commit", "applied")
UNKNOWN: dict[str, Any] = dict.fromkeys(("role", *NUMBERS)) | {"entries": []}


class LogWatch(ElectionWatch):
    """v2.1's watch, which also keeps the last log each node gave (one per node name)."""

    def __init__(self) -> None:
        super().__init__()
        self.logs: dict[str, dict[str, Any]] = {}


def whole(value: object) -> int:
    """A number a node sent, checked: a whole number, at least 0."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"not a whole number: {value!r}")
    return value


def short_log(said: dict[str, Any]) -> dict[str, Any]:
    """The part of a node's ``/cluster/log`` the page draws, checked and bounded."""
    role = said["role"]
    if not isinstance(role, str):
        raise ValueError(f"not a role: {role!r}")
    entries = [
        {"index": whole(e["index"]), "term": whole(e["term"]),
         "command": str(e["command"])[:SHOWN_COMMAND]}
        for e in said["entries"][-SHOWN_ENTRIES:]
    ]  # fmt: skip
    return {
        "role": role[:SHOWN_COMMAND],
        **{n: whole(said[n]) for n in NUMBERS},
        "entries": entries,
    }


# --8<-- [start:ask_log]
async def ask(session: aiohttp.ClientSession, child: Child) -> dict[str, Any] | None:
    """The node's log in short, or None when it cannot answer in time."""
    if child.state() != RUNNING:
        return None  # a paused process cannot answer, and a dead one will not
    try:
        timeout = aiohttp.ClientTimeout(total=ASK_TIMEOUT)
        async with session.get(f"{child.url}/cluster/log", timeout=timeout) as answer:
            answer.raise_for_status()
            return short_log(await answer.json())
    except (TimeoutError, aiohttp.ClientError, ValueError, KeyError, TypeError):
        return None  # starting, stopping, too busy, or not a v3.0 node


# --8<-- [end:ask_log]


# --8<-- [start:logs]
@routes.get("/api/logs")
async def logs(request: web.Request) -> web.Response:
    """``GET /api/logs``: every node's log, live or as it last answered, beside the leader's."""
    app = request.app
    children = list(app[SUPERVISOR].children.values())
    answers = await asyncio.gather(*(ask(app[SESSION], child) for child in children))
    watch = app[WATCH]
    assert isinstance(watch, LogWatch)
    shown: list[dict[str, Any]] = []
    for child, answer in zip(children, answers, strict=True):
        if answer is not None:
            watch.logs[child.name] = answer
        known = answer or watch.logs.get(child.name, UNKNOWN)
        shown.append({"name": child.name, "process": child.state(), "live": answer is not None,
                      **known})  # fmt: skip
    leaders = [row for row in shown if row["live"] and row["role"] == "leader"]
    leading = max(leaders, key=lambda row: row["term"]) if leaders else None  # the newer term
    for row in shown:
        row["leader"], row["behind"] = row is leading, None
        if leading is not None and row["last_index"] is not None:
            row["behind"] = max(0, leading["last_index"] - row["last_index"])
    name = leading["name"] if leading is not None else None
    return web.json_response({"leader": name, "logs": shown})


# --8<-- [end:logs]


RAFT_LOG_STAGE = Stage("v3", LogWatch, look_at_election, tuple(routes))
