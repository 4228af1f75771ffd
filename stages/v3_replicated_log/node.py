"""The v3.0 node: v2.2's node, with Raft's replicated log under the key/value API.

It extends the earlier stages through their seams only: v2.1's
``create_election_app`` with a core (:class:`~.readindex.ReadIndexCore`), a driver
subclass (:class:`~.driver.RaftDriver`, which persists, sends and applies), v1's backend
seam (:class:`~.backend.RaftKV`), v2.2's response labels (``X-DDB-Node``, ``Retry-After``
on a ``503``), and one middleware for the headers v1's API lacks (:mod:`~.headers`).

Routes added to the v2.1 node::

    POST /cluster/{type}    append_entries, append_entries_reply, request_vote, vote
    GET  /cluster/log       {"name", "role", "term", "leader", "last_index", "commit",
                             "applied", "keys", "entries": [{"index", "term", "command"}]}
                            (the last LAST_ENTRIES entries; a command as "put k" or "no-op")

and the ``/kv`` routes are v1's, with v3.0's meaning::

    PUT    /kv/{key}   proposed, answered once applied: 201 new, 200 replaced; 412 if
                       If-Match's version is not the key's; 307 to the leader; 503 with
                       Retry-After without one; 503 {"outcome": "unknown"} if leadership
                       was lost (or the wait timed out) before it was known to commit
    DELETE /kv/{key}   the same: 204, or 404 if absent
    GET    /kv/{key}   linearizable (ReadIndex, on the leader; 307 on a follower), or
                       ?consistency=stale from any node's applied state
"""

from __future__ import annotations

import random

from aiohttp import web

from stages.v1_kv.server import BACKEND
from stages.v2_1_election.core import Elector, HardState, Storage
from stages.v2_1_election.node import DRIVER, ElectionDriver, create_election_app
from stages.v2_1_election.quorum_config import QuorumConfig
from stages.v2_2_replication.node import label_response
from stages.v2_registry.node import NodeConfig
from stages.v3_replicated_log.backend import RaftKV
from stages.v3_replicated_log.driver import RaftDriver
from stages.v3_replicated_log.headers import raft_headers
from stages.v3_replicated_log.kv import Command, InvalidCommand
from stages.v3_replicated_log.machine import NodeMachine
from stages.v3_replicated_log.messages import MAX_BATCH, MAX_DATA, Entry
from stages.v3_replicated_log.readindex import ReadIndexCore
from stages.v3_replicated_log.storage import LogStorage

# An AppendEntries carries up to MAX_BATCH entries, each a JSON string inside JSON (every
# quote escaped: twice its length at most), and a little more.
MAX_MESSAGE_BYTES = MAX_BATCH * (2 * MAX_DATA + 128) + 64 * 1024
LAST_ENTRIES = 8  # /cluster/log shows this many of the last entries (the dashboard draws them)
SHOWN_KEY = 24  # characters of a key in an entry's short description


def raft_driver(app: web.Application) -> RaftDriver:
    driver = app[DRIVER]
    assert isinstance(driver, RaftDriver), "not a v3.0 node"
    return driver


# --8<-- [start:create_raft_app]
def create_raft_app(
    config: NodeConfig,
    settings: QuorumConfig,
    storage: LogStorage,
    rng: random.Random | None = None,
    *,
    timeout: float = 5.0,
) -> web.Application:
    """A v3.0 node whose log and term are kept in ``storage`` (and restored from it now).
    ``timeout``: the longest a client waits for its write to apply, or its read."""
    persisted = storage.load()

    def new_core(name: str, rng: random.Random, now: float, restored: HardState) -> Elector:
        return ReadIndexCore(
            name, settings, rng, now, persisted.hard_state, persisted.entries, persisted.commit
        )

    def new_driver(
        app: web.Application, config: NodeConfig, core: Elector, _: Storage | None, size: int
    ) -> ElectionDriver:
        return RaftDriver(app, config, core, None, size, log_storage=storage, machine=NodeMachine())

    backend = RaftKV(timeout)
    app = create_election_app(
        config, new_core, None, rng, driver=new_driver, max_message_bytes=MAX_MESSAGE_BYTES,
        backend=backend,
    )  # fmt: skip
    backend.attach(lambda: raft_driver(app))
    app.middlewares.append(raft_headers)  # inside v1's JSON errors and the token checks
    app.on_response_prepare.append(label_response)
    app.router.add_get("/cluster/log", get_log)
    app.on_cleanup.append(close_storage)  # after every cleanup context: the writer has stopped
    return app


# --8<-- [end:create_raft_app]


async def close_storage(app: web.Application) -> None:
    await raft_driver(app).close()


async def get_log(request: web.Request) -> web.Response:
    """``GET /cluster/log``: this node's log and state machine in short."""
    driver = raft_driver(request.app)
    core = driver.core
    last = core.log.last_index
    body = {
        "name": core.name,
        "role": core.role.value,
        "term": core.term,
        "leader": core.leader,
        "last_index": last,
        "commit": core.commit_index,
        "applied": driver.machine.applied,
        "keys": await request.app[BACKEND].count(),
        "entries": [
            {"index": entry.index, "term": entry.term, "command": describe(entry)}
            for entry in core.log.slice(max(1, last - LAST_ENTRIES + 1), last)
        ],
    }
    return web.json_response(body)


def describe(entry: Entry) -> str:
    """An entry's command in a few words: ``put greeting``, or ``no-op`` for a new leader's."""
    if entry.data is None:
        return "no-op"
    try:
        command = Command.from_data(entry.data)
    except InvalidCommand:
        return "not a command"
    key = command.key if len(command.key) <= SHOWN_KEY else command.key[: SHOWN_KEY - 1] + "…"
    return f"{command.op} {key}"
